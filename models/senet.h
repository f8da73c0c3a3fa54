// se_resnet20: resnet20 with Squeeze-and-Excitation (Hu et al., "Squeeze-and-Excitation
// Networks", CVPR 2018, Fig. 3 "SE-ResNet module", Eq. 2-4), as specified in MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                   -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels, each F -> SE(16) -> + x  -> 16x32x32   SE hidden 1
//   layer2: 3 BasicBlocks, 32 channels, first /2, SE(32)         -> 32x16x16   SE hidden 2
//   layer3: 3 BasicBlocks, 64 channels, first /2, SE(64)         -> 64x8x8     SE hidden 4
//   global average pool, linear 64->10                           -> 10 logits
//
// The SE block scales the residual branch's channels before the addition (layers/se_block.h).
// Parameters: resnet20's 272,474 plus, per block of C channels with hidden h = max(1, C/16),
// (C*h + h) + (h*C + C): 3 * 49 + 3 * 162 + 3 * 580 = 2,373, so 274,847 in all.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> se_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
