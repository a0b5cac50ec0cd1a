#include <cblas.h>
/* OpenBLAS extensions: thread control, so one training run uses one BLAS thread. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
