#include "dbus/job_book.hpp"

namespace dynamod::dbus {

std::string job::path() const { return "/org/freedesktop/systemd1/job/" + std::to_string(id); }

const char* job_result_text(job_outcome o) {
  switch (o) {
    case job_outcome::done: return "done";
    case job_outcome::failed: return "failed";
    case job_outcome::dependency: return "dependency";
    case job_outcome::canceled: return "canceled";
    case job_outcome::timeout: return "timeout";
    case job_outcome::unsupported: return "unsupported";
  }
  return "failed";
}

job_book::enqueued job_book::enqueue(const std::string& unit, const std::string& type, job_clock::time_point now) {
  enqueued out;
  // systemd's mode "replace": a newer job on a unit cancels the pending one.
  if (auto it = by_unit_.find(unit); it != by_unit_.end()) {
    out.replaced = end(jobs_.find(it->second), job_outcome::canceled);
  }
  if (jobs_.size() >= kMaxJobs) return out;
  // Ids are never 0 ("no job" in ListUnits) and never one still in use, also after wrapping around.
  do {
    ++last_id_;
  } while (last_id_ == 0 || jobs_.count(last_id_) != 0);
  job j{last_id_, unit, type, now + timeout_};
  jobs_.emplace(j.id, j);
  by_unit_[unit] = j.id;
  out.created = std::move(j);
  return out;
}

std::optional<job_removed> job_book::end(std::map<uint32_t, job>::iterator it, job_outcome outcome) {
  if (it == jobs_.end()) return std::nullopt;
  job_removed r{it->second.id, it->second.path(), it->second.unit, job_result_text(outcome)};
  if (auto u = by_unit_.find(it->second.unit); u != by_unit_.end() && u->second == it->second.id) by_unit_.erase(u);
  jobs_.erase(it);
  return r;
}

std::optional<job_removed> job_book::finish(uint32_t id, job_outcome outcome) { return end(jobs_.find(id), outcome); }

std::vector<job_removed> job_book::expire(job_clock::time_point now) {
  std::vector<job_removed> out;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    auto next = std::next(it);
    if (it->second.deadline <= now) out.push_back(*end(it, job_outcome::timeout));
    it = next;
  }
  return out;
}

std::optional<job_clock::time_point> job_book::next_deadline() const {
  std::optional<job_clock::time_point> earliest;
  for (const auto& [id, j] : jobs_) {
    if (!earliest || j.deadline < *earliest) earliest = j.deadline;
  }
  return earliest;
}

const job* job_book::find(uint32_t id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const job* job_book::find_by_unit(const std::string& unit) const {
  auto it = by_unit_.find(unit);
  return it == by_unit_.end() ? nullptr : find(it->second);
}

std::vector<job> job_book::list() const {
  std::vector<job> out;
  out.reserve(jobs_.size());
  for (const auto& [id, j] : jobs_) out.push_back(j);
  return out;
}

}  // namespace dynamod::dbus
