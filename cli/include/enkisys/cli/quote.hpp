// POSIX shell quoting for the remote side of ssh (ssh joins its command words with spaces and
// hands the line to the remote user's shell).
//
// Contract:
//  * shell_quote(s) returns one single-quoted word that every POSIX shell (sh, dash, bash, zsh)
//    reads back as exactly `s`, whatever bytes s holds: ' becomes '\'' and nothing else is
//    special inside single quotes. The empty string becomes ''.
//  * needs_quoting(s) is false only for non-empty words made of [A-Za-z0-9_@%+=:,./-].
//  * Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace enkisys::cli {

std::string shell_quote(std::string_view s);
bool needs_quoting(std::string_view s);

}  // namespace enkisys::cli
