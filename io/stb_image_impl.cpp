// The one translation unit that compiles stb_image, stb_image_write and stb_image_resize (public domain, by
// Sean Barrett; Debian package libstb-dev). Everything else calls them through io/image.h and
// io/gzip.cpp, so no other file defines these macros.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STBI_ONLY_PNG  // the formats the image-folder loader takes; fewer decoders, less to trust
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_MAX_DIMENSIONS 16384  // refuse absurd headers before allocating for them
#define STBI_FAILURE_USERMSG       // readable failure reasons ("bad huffman code" -> "Corrupt JPEG")
// stb allocates its decoder state with malloc and fills in only what the file defines: a corrupt
// JPEG whose scan names a Huffman or quantisation table it never defined read leftovers of the heap
// (found by fuzz/fuzz_image.cpp). Zeroed allocations make such a read a read of zeros, the same on
// every run; io/image.cpp refuses the undefined Huffman table before stb sees it.
#define STBI_MALLOC(size) calloc(1, size)
#define STBI_REALLOC(pointer, size) realloc(pointer, size)
#define STBI_FREE(pointer) free(pointer)
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
