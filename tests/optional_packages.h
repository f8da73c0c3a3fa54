// Tests that need a package only some machines have (NumPy, PyTorch, ONNX Runtime, Open MPI) pass
// with a warning where it is missing, so that the suite runs anywhere. A warning hides in a
// passing run's log, though, so CI (.ci/run), whose setup installs them all, sets
// GLIMPSE_REQUIRE_OPTIONAL=1: there a missing package fails the test that needs it.
//
//   if (!numpy_available()) SKIP_WITHOUT_PACKAGE("python3-numpy is not installed: the exchange is not tested");
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>

#define SKIP_WITHOUT_PACKAGE(message)                                        \
  do {                                                                       \
    if (std::getenv("GLIMPSE_REQUIRE_OPTIONAL") != nullptr)                  \
      FAIL(message << " (GLIMPSE_REQUIRE_OPTIONAL is set: it is required)"); \
    WARN(message);                                                           \
    return;                                                                  \
  } while (false)
