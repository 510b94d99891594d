// oneDNN (Debian: libdnnl-dev, oneDNN 2.6, built with the OpenMP CPU runtime). ZooNet's only
// door to it is Sources/ZooNet/Backend: every status is checked there.
#include <oneapi/dnnl/dnnl.h>
