// action_table.h: which action each kind of violation gets.
//
// The order, first match wins (docs/policy.md): the thread's own
// PR_DATAPLANE_SIG(sig); --action=KIND=ACTION; the policy's `@action KIND`;
// --on-violation; the policy's `@action default`; kill. Interruption kinds
// (ipi, irq, ...) are acted on only when named (ActionTable::Acts).

#ifndef DPSUPERVISE_SUPERVISOR_POLICY_ACTION_TABLE_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_ACTION_TABLE_H_

#include <map>
#include <optional>

#include "supervisor/policy/action.h"
#include "supervisor/policy/policy.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {

struct ActionTable {
  std::map<ViolationKind, Action> per_kind;
  Action fallback;  // kill unless configured

  // Whether violations of `kind` are acted on at all. Every kernel entry
  // is; an interruption (ipi, irq, ...) only when its kind was given an
  // action by name (`@action ipi ...`, --action=ipi=...): it is noise
  // otherwise, and neither the default action, --on-violation nor a
  // thread's PR_DATAPLANE_SIG makes it a violation.
  bool Acts(ViolationKind kind) const;
  // Whether any interruption kind is acted on (noise tracing is needed).
  bool ActsOnInterruptions() const;

  // The action for a violation of `kind` by a thread whose PR_DATAPLANE_SIG
  // signal is `thread_signal` (0: none). `errno E` only applies to syscalls
  // and `deliver` only to traps and signals: a violation of another kind
  // that would get one (as the default action) gets kill instead.
  Action For(ViolationKind kind, int thread_signal) const;
};

// The table of a policy, the --action=KIND=ACTION overrides (they win over
// the policy's `@action KIND`) and the --on-violation action (none when not
// given).
ActionTable ResolveActions(const Policy& policy, const std::optional<Action>& on_violation,
                           const std::map<ViolationKind, Action>& per_kind_overrides = {});

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_ACTION_TABLE_H_
