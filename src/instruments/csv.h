// A minimal RFC 4180 line splitter for the instrument master and freeze-limit files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wojak {

// Splits one CSV line into fields, honouring double quotes ("" inside quotes is one quote).
// Leading and trailing ASCII spaces of unquoted fields are trimmed because exchange files pad
// them ("NIFTY , 1800"). Quoted fields spanning lines are not supported (no master has them).
Status SplitCsvLine(std::string_view line, std::vector<std::string>& fields);

// Splits text into lines, dropping a trailing "\r" from each (files written on Windows).
std::vector<std::string_view> SplitLines(std::string_view text);

std::string_view TrimSpaces(std::string_view text);

}  // namespace wojak
