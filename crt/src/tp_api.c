/* The public C API: each call runs the internal function with the
 * process-wide context, or answers why there is none. */
#include <stddef.h>

#include "tp_internal.h"

#define WITH_CTX(c)                                   \
  const struct tp_ctx* c = tpi_process_ctx();         \
  if (!c) return tpi_process_status()

int tp_in_space(void) { return tpi_process_ctx() != NULL; }

int tp_self(struct tp_self_info* out) {
  WITH_CTX(c);
  return tpi_self(c, out);
}

int tp_owner(const void* p) {
  WITH_CTX(c);
  return tpi_owner(c, p);
}

int tp_publish(const char* name, const void* p) { return tp_publish_sized(name, p, 0); }

int tp_publish_sized(const char* name, const void* p, uint64_t size) {
  WITH_CTX(c);
  return tpi_publish(c, name, p, size);
}

int tp_unpublish(const char* name) {
  WITH_CTX(c);
  return tpi_unpublish(c, name);
}

int tp_lookup(const char* name, void** out) { return tp_lookup_sized(name, NULL, out); }

int tp_lookup_sized(const char* name, uint64_t* size_out, void** out) {
  WITH_CTX(c);
  return tpi_lookup(c, name, size_out, out);
}

int tp_wait(const char* name, int64_t timeout_ns, void** out) {
  return tp_wait_sized(name, timeout_ns, NULL, out);
}

int tp_wait_sized(const char* name, int64_t timeout_ns, uint64_t* size_out, void** out) {
  WITH_CTX(c);
  return tpi_wait(c, name, timeout_ns, size_out, out);
}

int tp_hold(const void* p) {
  WITH_CTX(c);
  return tpi_hold(c, p);
}

int tp_release(const void* p) {
  WITH_CTX(c);
  return tpi_release(c, p);
}
