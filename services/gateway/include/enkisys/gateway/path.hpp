// Request-target normalisation for stage/route matching.
//
// Contract (pure functions, thread-safe):
//  * Accepts only origin-form targets ("/a/b?q"). Splits off the query string.
//  * Collapses "//" into "/", resolves "." and ".." segments (raw or percent-encoded, any case).
//  * Rejects (returns an error, the caller answers 400): encoded '/' or '\' (%2f, %5c), NUL
//    (%00), raw '\', malformed %-escapes, and any ".." that would climb above the first segment
//    (the stage) — so a request can never leave the stage it names.
//  * Other %-escapes are kept as sent (the upstream sees the same bytes).
//  * The fast path (no '%', no "/.", no "//") makes no copy: *path views `target`.
#pragma once

#include <string>
#include <string_view>

namespace enkisys::gateway {

// Returns nullptr on success (with *path / *query set; *path may point into *scratch), else a
// short static description of the problem.
const char* normalize_target(std::string_view target, std::string* scratch, std::string_view* path,
                             std::string_view* query);

// The Location of a browser's login redirect: `stage_prefix` + `login_path` +
// "?next=" + `original` percent-encoded. `original` (a normalised path) is given as `next`
// only when it is a relative path on the same stage (starts with stage_prefix + "/", no "//",
// no '\', printable ASCII only); otherwise the Location carries no `next`, so a login can
// never be bounced to another site.
std::string login_location(std::string_view stage_prefix, std::string_view login_path,
                           std::string_view original);

}  // namespace enkisys::gateway
