// Parsing the head of /proc/<pid>/stat ("123 (comm) S 1 ..."), used by PID 1 to find the processes
// left at shutdown. Pure and allocation-free.
#pragma once

namespace dynamod::init {

// Extracts pid, comm (truncated to fit) and ppid. Returns false if the text is malformed.
bool parse_proc_stat(const char* text, unsigned long length, int& pid, char* comm, unsigned long comm_capacity,
                     int& ppid);

}  // namespace dynamod::init
