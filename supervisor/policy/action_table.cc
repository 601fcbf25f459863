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

bool ActionTable::Acts(ViolationKind kind) const {
  return !IsInterruptionKind(kind) || per_kind.count(kind) > 0;
}

bool ActionTable::ActsOnInterruptions() const {
  for (const auto& [kind, action] : per_kind) {
    if (IsInterruptionKind(kind)) return true;
  }
  return false;
}

ActionTable ResolveActions(const Policy& policy, const std::optional<Action>& on_violation,
                           const std::map<ViolationKind, Action>& per_kind_overrides) {
  ActionTable table;
  table.per_kind = policy.actions;
  for (const auto& [kind, action] : per_kind_overrides) table.per_kind[kind] = action;
  if (policy.default_action) table.fallback = *policy.default_action;
  if (on_violation) table.fallback = *on_violation;
  return table;
}

}  // namespace dpsupervise
