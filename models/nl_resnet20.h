// nl_resnet20: resnet20 with non-local blocks (Wang et al., "Non-local Neural Networks", CVPR
// 2018, Fig. 2; embedded Gaussian, sub-sampled keys), as specified in docs/MODELS.md.
//
//   input 3x32x32
//   conv 3/1/1 3->16, BN, ReLU                                  -> 16x32x32
//   layer1: 3 BasicBlocks, 16 channels                          -> 16x32x32
//   layer2: 2 BasicBlocks, 32 channels, first /2, NonLocal(32), 1 BasicBlock   -> 32x16x16
//   layer3: 2 BasicBlocks, 64 channels, first /2, NonLocal(64), 1 BasicBlock   -> 64x8x8
//   global average pool, linear 64->10                          -> 10 logits
//
// Each non-local block (layers/non_local.h) lets every position of the stage's map attend to
// every position of it (256 queries against 64 keys in stage 2, 64 against 16 in stage 3), as the
// paper inserts them between residual blocks (Sec. 4.1). Their BN starts with gamma 0: at
// initialisation the network computes exactly what resnet20 does.
#pragma once

#include <memory>

#include "engine/random.h"
#include "models/resnet20.h"

namespace glimpse {

std::shared_ptr<ResNet20> nl_resnet20(Rng& rng, int64_t classes = 10);

}  // namespace glimpse
