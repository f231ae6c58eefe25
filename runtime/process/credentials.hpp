// Resolves [service.user] (names or numbers) into ids before the fork: the child cannot use NSS.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace dynamod {

struct credentials {
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;
  std::string home;
  std::string user_name;
};

// Returns the credentials or an error message ("unknown user 'www'").
std::optional<credentials> resolve_credentials(const std::string& user, const std::string& group,
                                               const std::vector<std::string>& supplementary, std::string& error);

}  // namespace dynamod
