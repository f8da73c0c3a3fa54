// cbam_resnet20: resnet20 with CBAM (Woo et al., "CBAM: Convolutional Block Attention Module",
// ECCV 2018, Fig. 3 "CBAM integrated with a ResBlock", Fig. 1-2, Eq. 1-3), as in MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                      -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels, each F -> CBAM(16) -> + x   -> 16x32x32
//   layer2: 3 BasicBlocks, 32 channels, first /2, CBAM(32)          -> 32x16x16
//   layer3: 3 BasicBlocks, 64 channels, first /2, CBAM(64)          -> 64x8x8
//   global average pool, linear 64->10                              -> 10 logits
//
// CBAM (layers/cbam.h) = channel attention (shared MLP C -> max(1, C/16) -> C over the
// average- and max-pooled descriptors) then spatial attention (conv 7x7 2->1 + BN over
// [mean; max] across channels), on the residual branch before the addition.
// Parameters: resnet20's 272,474 plus the SE-like MLPs (2,373, see models/senet.h) plus one
// spatial attention per block, 7*7*2 + 2 = 100, times 9: 275,747 in all.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> cbam_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
