// eca_resnet20: resnet20 with Efficient Channel Attention (Wang et al., "ECA-Net", CVPR 2020,
// Fig. 2), as specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels, each F -> ECA -> + x    -> 16x32x32
//   layer2: 3 BasicBlocks, 32 channels, first /2, ECA           -> 32x16x16
//   layer3: 3 BasicBlocks, 64 channels, first /2, ECA           -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// ECA (layers/eca.h) scales the residual branch's channels before the addition, as SE does,
// with a 3-tap 1-D convolution across the channels in place of SE's MLP: 3 parameters per
// block, 27 in all, so 272,501 parameters against resnet20's 272,474.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> eca_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
