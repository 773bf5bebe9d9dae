// tp.hpp with every template instantiated once: compiled by compile_check.cmake
// with each C++ compiler at -Wall -Wextra -Wpedantic -Werror.
#include "threadprocs/tp.hpp"

struct Thing {
  int a;
};

int use_everything() {
  using namespace std::chrono_literals;
  static Thing thing{1};
  int n = 0;
  n += tp::in_space();
  if (auto s = tp::self()) n += static_cast<int>(s->slot);
  if (auto o = tp::owner(&thing)) n += static_cast<int>(*o);
  if (tp::publish("thing", &thing)) ++n;
  if (tp::publish<void>("void", static_cast<void*>(&thing))) ++n;
  if (tp::unpublish("thing")) ++n;
  if (auto p = tp::lookup<Thing>("thing")) n += (*p)->a;
  if (auto p = tp::lookup<const Thing>("prog/thing")) n += p.value()->a;
  if (auto p = tp::wait<Thing>("thing", 10ms)) n += (*p)->a;
  if (auto p = tp::wait<Thing>("thing", std::chrono::seconds(1))) n += (*p)->a;
  if (auto p = tp::wait<Thing>("thing")) n += (*p)->a;
  tp::hold h(&thing);
  tp::hold h2 = std::move(h);
  if (h2) ++n;
  n += h2.error().code();
  const tp::error e(TP_EGONE);
  n += static_cast<int>(e.error_code().message().size());
  n += e == TP_EGONE;
  return n;
}
