// gc_resnet20: resnet20 with GCNet's global context block (Cao et al. 2019, Fig. 4(d)), as
// specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels, each F -> GC -> + x     -> 16x32x32
//   layer2: 3 BasicBlocks, 32 channels, first /2, GC            -> 32x16x16
//   layer3: 3 BasicBlocks, 64 channels, first /2, GC            -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// GC (layers/global_context.h) adds one context vector, pooled by a learnt attention map over
// the positions and passed through a C -> C/4 -> C bottleneck, to every position of the residual
// branch before the addition. Its last convolution starts at zero: at initialisation the network
// computes exactly what resnet20 does.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> gc_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
