#include "supervisor/policy/action_table.h"

namespace dpsupervise {

Action ActionTable::For(ViolationKind kind, int thread_signal) const {
  if (thread_signal != 0) {
    Action action;
    action.kind = ActionKind::kSignal;
    action.signal = thread_signal;
    return action;
  }
  auto it = per_kind.find(kind);
  Action action = it != per_kind.end() ? it->second : fallback;
  if (!ActionAppliesTo(action.kind, kind)) return Action{};
  return action;
}

ActionTable ResolveActions(const Policy& policy, const std::optional<Action>& on_violation) {
  ActionTable table;
  table.per_kind = policy.actions;
  if (policy.default_action) table.fallback = *policy.default_action;
  if (on_violation) table.fallback = *on_violation;
  return table;
}

}  // namespace dpsupervise
