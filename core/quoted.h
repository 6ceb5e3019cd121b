// A string as a JSON string literal: quotes, backslashes and control
// characters escaped. The same text is a valid YAML double-quoted scalar, so
// the JSON writers, the Chrome trace and the profile writer share it.
#pragma once

#include <string>
#include <string_view>

namespace tcsim {

std::string json_quoted(std::string_view s);

}  // namespace tcsim
