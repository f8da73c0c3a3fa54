// A model's layers, their output shapes, parameters and multiply-accumulates, without training
// (in the spirit of torchinfo's summary):
//
//   std::printf("%s", summarize(*model, {1, 3, 32, 32}).c_str());
//
// It runs one forward, in evaluation mode, on a batch of zeros of `input_shape` (a batch of one
// gives the counts per image), under a Tracer (engine/trace.h) that lists the ops it ran, and
// keeps those the output depends on. Each op that reads a layer's parameters (or buffers)
// belongs to that layer, so the layer's output shape is that of its last such op, and its
// multiply-accumulates are those of its convolutions and matrix products (a convolution: one
// per output value per weight of its kernel; FLOPs are about twice as many). A layer without
// parameters (ReLU, pooling, flatten) is a row with no shape: no op says it is its own; a
// block's row adds up its layers, and a layer run more than once (dasNet's five passes) counts
// every run. Products of two activations (attention's queries against keys) belong to no layer
// and are counted apart.
//
// Nothing is kept: the forward's tensors are dropped before it returns.
#pragma once

#include <string>

#include "engine/tensor.h"
#include "layers/module.h"

namespace glimpse {

std::string summarize(Module& model, const Shape& input_shape);

// What summarize counts, for a program or a test to read: the whole model's figures.
struct SummaryTotals {
  int64_t parameters = 0;       // trainable, as Module::parameter_count
  int64_t layer_macs = 0;       // in the convolutions and matrix products that read a layer's weights
  int64_t activation_macs = 0;  // in products of two activations (attention)
  Shape output;                 // the forward's output; empty if no op of the engine computed it
};
SummaryTotals summary_totals(Module& model, const Shape& input_shape);

}  // namespace glimpse
