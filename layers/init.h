// Weight initialisation: fills a tensor's values in place, drawing from a given Rng so that a
// seed fixes every weight of a model.
//
// The project's conventions (MODELS.md), those of torchvision's ResNets and of the PyTorch twins
// (bench/pytorch_reference.py; not nn.Conv2d's own default), so that models compare:
//   convolution weight   Kaiming normal, fan_out, ReLU gain:  w ~ N(0, 2 / fan_out),
//                        fan_out = K * KH * KW                (He et al. 2015, Eq. 10, backward case)
//   convolution bias     0
//   linear weight, bias  PyTorch's default: uniform in [-1/sqrt(fan_in), +1/sqrt(fan_in)], fan_in = in
//                        (kaiming_uniform with a = sqrt(5) gives exactly this bound for the weight)
//   BN gamma, beta       1, 0
// The fills write through data(), so the tensor keeps its identity (Note [Registered tensors
// are handles] in module.h) and can be re-initialised after registration.
#pragma once

#include "engine/random.h"
#include "engine/tensor.h"

namespace glimpse {

// For w of shape (out, in) or (K, C, KH, KW): fan_in = in or C*KH*KW, fan_out = out or K*KH*KW.
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

void fill(const Tensor& t, real value);
void fill_uniform(const Tensor& t, real low, real high, Rng& rng);
void fill_normal(const Tensor& t, real mean, real stddev, Rng& rng);

void kaiming_normal_fan_out_relu(const Tensor& w, Rng& rng);  // std = sqrt(2 / fan_out)
// PyTorch's nn.Linear default: w and b uniform in +-1/sqrt(fan_in); b may be undefined.
void linear_default_init(const Tensor& w, const Tensor& b, Rng& rng);

}  // namespace glimpse
