// TP_EXPORT in C++: namespaced names, const objects, inside a namespace.
#include <string>

#include "threadprocs/tp.h"

namespace ns {
int cpp_counter = 4;
extern const char cpp_text[] = "text";  // extern: a namespace-scope const is internal otherwise
struct Widget {
  int id;
  double weight;
};
Widget widget{1, 2.5};
TP_EXPORT(widget);  // inside the namespace: exported as "widget"
}  // namespace ns

TP_EXPORT(ns::cpp_counter);
TP_EXPORT(ns::cpp_text);

static std::string cpp_string = "not constant-initialized, but its address is";
TP_EXPORT(cpp_string);

void* cpp_string_address() { return &cpp_string; }
