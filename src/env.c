/* Limits read from the environment: one parser, so every LMP_MAX_* and LMP_CALC_* variable
 * takes the same form (a positive decimal integer) and falls back the same way. */
#include <stdlib.h>

#include "lmp.h"

size_t lmp_env_size(const char *name, size_t dflt, size_t max) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0') return dflt;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  return (*end == '\0' && v > 0 && v <= max) ? (size_t)v : dflt;
}
