// cc_resnet20: resnet20 with CCNet's recurrent criss-cross attention (Huang et al., ICCV 2019,
// Fig. 2-3, R = 2), as specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1, layer2, layer3 as in resnet20                       -> 64x8x8
//   CrissCrossAttention, applied twice with shared weights      -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// Each pass lets a position attend to the 15 positions of its row and column
// (layers/criss_cross.h); two passes reach every position. The output is added scaled by a
// learnt scalar that starts at 0: at initialisation the network computes exactly what resnet20
// does.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> cc_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
