// The one translation unit that compiles stb_image and stb_image_write (public domain, by
// Sean Barrett; Debian package libstb-dev). Everything else calls them through io/image.h and
// io/gzip.cpp, so no other file defines these macros.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_ONLY_PNG  // the formats the image-folder loader takes; fewer decoders, less to trust
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS 16384  // refuse absurd headers before allocating for them
#define STBI_FAILURE_USERMSG  // readable failure reasons ("bad huffman code" -> "Corrupt JPEG")
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
