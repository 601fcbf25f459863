// thread_table.h: every traced task and every traced process, by id. The
// monitor owns one; the collaborators get the entries they work on.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_TABLE_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_TABLE_H_

#include <sys/types.h>

#include <functional>
#include <set>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "supervisor/monitor/thread_state.h"

namespace dpsupervise {

class ThreadTable {
 public:
  // How a new task's thread group is found: /proc/TID/status by default.
  using TgidOf = std::function<absl::StatusOr<pid_t>(pid_t tid)>;
  ThreadTable();
  explicit ThreadTable(TgidOf tgid_of);

  // The entry of `tid`, created (with its tgid looked up; `tid` itself when
  // that fails) when the task is new. References stay valid until that
  // entry is erased (the table is node-based).
  ThreadState& Track(pid_t tid);
  ThreadState* Find(pid_t tid);
  const ThreadState* Find(pid_t tid) const;
  void Erase(pid_t tid);
  bool empty() const { return threads_.empty(); }

  // A thread of process `tgid` that has not begun to exit, for operations on
  // the whole process (/proc/TID/mem, maps, process_vm_*): the leader's
  // entries have no address space once it has exited (pthread_exit in
  // main) while other threads run on. The leader when it is still there,
  // `tgid` when no thread is known.
  pid_t LiveTid(pid_t tgid) const;
  bool HasThreadsOf(pid_t tgid) const;
  // The thread groups of every tracked thread, and the processes being
  // handed over to a debugger (some of whose threads are detached).
  std::set<pid_t> HandedOverOrTraced() const;

  // After an exec by any thread of `tgid`: the process has one thread,
  // `tgid`, whose state is that of the thread that called exec
  // (`former_tid`, or `stopped` when that one is unknown); every other
  // thread of the process is gone and the process state is for the old
  // program image (its scratch memory, syscall instruction and symbols are
  // dropped; a debugger handover stays). Returns the survivor.
  ThreadState& ReplaceAfterExec(pid_t tgid, pid_t former_tid, ThreadState& stopped);

  // The state of process `tgid`, created empty when new.
  ProcessState& Process(pid_t tgid);
  ProcessState* FindProcess(pid_t tgid);
  // Drops the state of a process none of whose threads is left, unless a
  // debugger handover is in progress for it.
  void ForgetProcessIfGone(pid_t tgid);

  using Map = std::unordered_map<pid_t, ThreadState>;
  Map::iterator begin() { return threads_.begin(); }
  Map::iterator end() { return threads_.end(); }
  Map::const_iterator begin() const { return threads_.begin(); }
  Map::const_iterator end() const { return threads_.end(); }
  size_t size() const { return threads_.size(); }

 private:
  TgidOf tgid_of_;
  Map threads_;
  std::unordered_map<pid_t, ProcessState> processes_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_TABLE_H_
