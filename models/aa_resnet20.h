// aa_resnet20: resnet20 with attention-augmented convolutions (Bello et al., "Attention Augmented
// Convolutional Networks", ICCV 2019, Fig. 2, Sec. 3.2-3.3), as specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1, layer2 as in resnet20                               -> 32x16x16
//   layer3: 3 BasicBlocks, 64 channels, first /2, each with its first 3x3 convolution an
//           AugmentedConv2d: conv 3x3 to 48 channels ++ 4-head self-attention to 16   -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// The self-attention (layers/augmented_conv2d.h) sees the 8x8 map of stage 3 (in the first block,
// the 16x16 input average-pooled 2x2), with d_k = d_v = 16 over 4 heads and 2-D relative
// position logits; its 16 channels replace 16 of the convolution's 64. The BN and ReLU after it
// are the block's.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> aa_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
