// Expected<T, E> and Status of libs/security are those of libs/core (enkisys/core/expected.hpp):
// the one error idiom of the platform. Fallible calls of this library return Expected<T,
// std::string> (a readable reason) or Expected<T, VerifyError> (JWT verification).
#pragma once

#include "enkisys/core/expected.hpp"

namespace enkisys::security {

using core::Error;
using core::ErrorKind;
using core::Expected;
using core::make_error;
using core::Status;
using core::Unexpected;
using core::unexpected;

}  // namespace enkisys::security
