// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_:
//
//     total = sqrt( sum over every parameter p, every entry j of p.grad[j]^2 )
//     if total > max_norm:  every gradient *= max_norm / (total + 1e-6)
//
// Returns the total norm BEFORE clipping (log it: a spike announces a diverging run).
// A non-finite total (a NaN or an infinity in some gradient) is returned as it is and no
// gradient is touched: the caller decides (skip the step, stop, lower the rate).
// Parameters with no gradient are ignored.
#pragma once

#include <vector>

#include "engine/tensor.h"

namespace glimpse {

real clip_grad_norm(const std::vector<Tensor>& params, real max_norm);

}  // namespace glimpse
