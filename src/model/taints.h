// Toleration matching with the semantics of k8s.io/api core/v1 Toleration.ToleratesTaint (the
// comparison operators gate off, as in the reference release). Pure functions; thread-safe.
#ifndef SEXTANT_MODEL_TAINTS_H_
#define SEXTANT_MODEL_TAINTS_H_

#include <vector>

#include "sextant/model.h"

namespace sextant {

bool ToleratesTaint(const Toleration& toleration, const Taint& taint);
bool TolerationsTolerateTaint(const std::vector<Toleration>& tolerations, const Taint& taint);

const char* TaintEffectName(TaintEffect effect);

}  // namespace sextant

#endif  // SEXTANT_MODEL_TAINTS_H_
