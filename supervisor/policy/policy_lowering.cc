#include "supervisor/policy/policy_lowering.h"

#include <seccomp.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "supervisor/policy/policy_merge.h"

namespace dpsupervise {
namespace policy {
namespace {

// "Any bit of `mask` set", as alternatives libseccomp can check: one
// MASKED_EQ per bit, except that a run of bits up to bit 63 is one `>=`
// (arg & 0xffff...ff00 != 0 is arg >= 0x100). libseccomp has no "masked
// not equal", so minijail's `&` (a JSET in BPF) needs this.
std::vector<scmp_arg_cmp> AnyBitSet(int arg, uint64_t mask) {
  std::vector<scmp_arg_cmp> alternatives;
  int top_run = 64;  // lowest bit of the run of set bits ending at bit 63
  while (top_run > 0 && (mask >> (top_run - 1) & 1)) --top_run;
  if (top_run == 0) return {Compare(arg, SCMP_CMP_NE, 0)};
  if (top_run < 64) alternatives.push_back(Compare(arg, SCMP_CMP_GE, 1ULL << top_run));
  for (int bit = 0; bit < top_run; ++bit) {
    const uint64_t b = 1ULL << bit;
    if (mask & b) alternatives.push_back(Compare(arg, SCMP_CMP_MASKED_EQ, b, b));
  }
  return alternatives;
}

// What `argN OP value` compiles to: when it holds, and when it does not,
// each as alternatives.
struct LoweredAtom {
  std::vector<scmp_arg_cmp> when_true;
  std::vector<scmp_arg_cmp> when_false;
};

LoweredAtom LowerAtom(const Atom& atom) {
  const int arg = atom.arg;
  const uint64_t value = atom.value;
  auto pair = [&](scmp_compare yes, scmp_compare no) {
    return LoweredAtom{{Compare(arg, yes, value)}, {Compare(arg, no, value)}};
  };
  switch (atom.op) {
    case Comparison::kEq:
      return pair(SCMP_CMP_EQ, SCMP_CMP_NE);
    case Comparison::kNe:
      return pair(SCMP_CMP_NE, SCMP_CMP_EQ);
    case Comparison::kLt:
      return pair(SCMP_CMP_LT, SCMP_CMP_GE);
    case Comparison::kLe:
      return pair(SCMP_CMP_LE, SCMP_CMP_GT);
    case Comparison::kGt:
      return pair(SCMP_CMP_GT, SCMP_CMP_LE);
    case Comparison::kGe:
      return pair(SCMP_CMP_GE, SCMP_CMP_LT);
    case Comparison::kMaskAny:
      return {AnyBitSet(arg, value), {Compare(arg, SCMP_CMP_MASKED_EQ, value, 0)}};
    case Comparison::kMaskIn:
      // Every set bit of the argument is in `value`: no bit outside it is set.
      return {{Compare(arg, SCMP_CMP_MASKED_EQ, ~value, 0)}, AnyBitSet(arg, ~value)};
  }
  return {};
}


// How many conjunctions taking one alternative from each factor make,
// saturating.
size_t CombinationCount(const std::vector<std::vector<Literal>>& factors) {
  size_t count = 1;
  for (const auto& factor : factors) {
    if (factor.empty()) return 0;
    if (count > kMaxRulesPerSyscall * 4 / factor.size() + 1) return kMaxRulesPerSyscall * 4;
    count *= factor.size();
  }
  return count;
}

// Calls `f` with every conjunction taking one alternative from each factor.
template <typename F>
absl::Status ForEachCombination(const std::vector<std::vector<Literal>>& factors, F f) {
  if (CombinationCount(factors) == 0) return absl::OkStatus();
  std::vector<size_t> index(factors.size(), 0);
  std::vector<Literal> conjunction(factors.size());
  for (;;) {
    for (size_t i = 0; i < factors.size(); ++i) conjunction[i] = factors[i][index[i]];
    absl::Status status = f(conjunction);
    if (!status.ok()) return status;
    size_t i = 0;
    while (i < factors.size() && ++index[i] == factors[i].size()) index[i++] = 0;
    if (i == factors.size()) return absl::OkStatus();
  }
}

std::vector<scmp_arg_cmp> Conditions(const std::vector<Literal>& literals) {
  std::vector<scmp_arg_cmp> conditions;
  for (const Literal& l : literals) conditions.push_back(l.cmp);
  return conditions;
}

std::vector<Literal> WithPos(const std::vector<scmp_arg_cmp>& cmps, size_t pos) {
  std::vector<Literal> literals;
  for (const scmp_arg_cmp& cmp : cmps) literals.push_back({cmp, pos});
  return literals;
}

absl::Status TooManyRules(const LineLocation& at, size_t pos, absl::string_view what) {
  return at.Error(pos, absl::StrCat("found ", what, " to more than ", kMaxRulesPerSyscall,
                                    " seccomp rules, expected at most ", kMaxRulesPerSyscall,
                                    " per syscall"));
}

// The ALLOW rules: one per satisfiable combination of each clause.
absl::Status AddAllowRules(const LineLocation& at, int nr, const Expression& expression,
                           std::vector<SyscallRule>& rules) {
  for (const Clause& clause : expression) {
    std::vector<std::vector<Literal>> factors;
    for (const Atom& atom : clause) {
      factors.push_back(WithPos(LowerAtom(atom).when_true, atom.pos));
    }
    if (CombinationCount(factors) + rules.size() > kMaxRulesPerSyscall) {
      return TooManyRules(at, clause.front().pos, "a clause that expands");
    }
    Simplified never_true;
    bool any = false;
    absl::Status status = ForEachCombination(factors, [&](const std::vector<Literal>& conj) {
      Simplified s = Simplify(conj);
      if (s.outcome == Conjunction::kInexpressible) {
        return at.Error(
            s.culprits.back().pos,
            absl::StrCat("found 'arg", s.culprits.back().cmp.arg,
                         "' compared twice in one '&&' clause (", FormatCulprits(s.culprits),
                         "), expected each argument at most once per clause: libseccomp "
                         "cannot compare an argument twice in one rule (list the allowed "
                         "values with '||' instead)"));
      }
      if (s.outcome == Conjunction::kNeverTrue) {
        never_true = s;
        return absl::OkStatus();
      }
      any = true;
      rules.push_back({nr, SCMP_ACT_ALLOW, Conditions(s.literals)});
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (!any) {
      return at.Error(never_true.culprits.back().pos,
                      absl::StrCat("found '", FormatCulprits(never_true.culprits),
                                   "', expected a condition that can be true"));
    }
  }
  return absl::OkStatus();
}

// The ERRNO rules of `EXPR; return E`: libseccomp lets an unconditional rule
// replace a syscall's conditional ones, so "else" is compiled as the opposite
// of EXPR. Not (C1 || C2) is (not C1) && (not C2), and not (a && b) is
// (not a) || (not b): one factor per clause, its alternatives the negated
// atoms.
absl::Status AddElseRules(const LineLocation& at, int nr, const Filter& filter,
                          std::vector<SyscallRule>& rules) {
  std::vector<std::vector<Literal>> factors;
  for (const Clause& clause : filter.expression) {
    std::vector<Literal> alternatives;
    for (const Atom& atom : clause) {
      for (const Literal& l : WithPos(LowerAtom(atom).when_false, atom.pos)) {
        alternatives.push_back(l);
      }
    }
    factors.push_back(std::move(alternatives));
  }
  if (CombinationCount(factors) + rules.size() > kMaxRulesPerSyscall) {
    return TooManyRules(at, filter.return_pos,
                        "'return' after an expression whose opposite expands");
  }
  const uint32_t action = SCMP_ACT_ERRNO(filter.errno_value);
  return ForEachCombination(factors, [&](const std::vector<Literal>& conj) {
    Simplified s = Simplify(conj);
    if (s.outcome == Conjunction::kNeverTrue) return absl::OkStatus();
    if (s.outcome == Conjunction::kInexpressible) {
      return at.Error(
          filter.return_pos,
          absl::StrCat("found 'return' after an expression whose opposite compares arg",
                       s.culprits.back().cmp.arg, " twice (", FormatCulprits(s.culprits),
                       "), expected an expression whose opposite libseccomp can check: it "
                       "cannot compare an argument twice in one rule"));
    }
    rules.push_back({nr, action, Conditions(s.literals)});
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<std::vector<SyscallRule>> LowerFilter(const LineLocation& at, int nr,
                                                     const Filter& filter) {
  std::vector<SyscallRule> rules;
  switch (filter.kind) {
    case FilterKind::kAllow:
      rules.push_back({nr, SCMP_ACT_ALLOW, {}});
      break;
    case FilterKind::kErrno:
      rules.push_back({nr, SCMP_ACT_ERRNO(filter.errno_value), {}});
      break;
    case FilterKind::kExpression: {
      absl::Status status = AddAllowRules(at, nr, filter.expression, rules);
      if (status.ok() && filter.errno_value != 0) status = AddElseRules(at, nr, filter, rules);
      if (!status.ok()) return status;
      break;
    }
  }
  return rules;
}

}  // namespace policy
}  // namespace dpsupervise
