/* Sentences for the TP_* codes (tp.h). */
#include "tp_internal.h"

const char* tp_strerror(int code) {
  switch (code) {
    case TP_OK: return "success";
    case TP_ENOSPACE: return "the program does not run in a Threadprocs space";
    case TP_ENOTFOUND: return "no object is published or exported under that name";
    case TP_EEXIST: return "another object is already published under that name";
    case TP_ETIMEDOUT: return "the name did not appear before the timeout";
    case TP_EINVAL:
      return "invalid argument: a name must be printable ASCII without spaces, at most 103 bytes "
             "(\"program/var\" for exports), and the address must not be NULL";
    case TP_EFULL: return "the space's registry is full";
    case TP_EGONE: return "the program that owned that memory has ended and its slot was freed";
    case TP_ENOTHELD: return "this program holds no hold on the slot of that address";
    case TP_ESIZE: return "the object's published size differs from the size of the requested type";
    case TP_ENOTARENA: return "the address lies outside the space's arena";
    case TP_EABI: return "the space's control region has a layout this libtp does not know (ABI mismatch)";
    default: return "unknown Threadprocs error code";
  }
}
