// TP_EXPORT compiles in C and C++ and emits records with the right name,
// address (relocated at run time) and size. Linked without the lld fragment,
// the linker's own __start_/__stop_ symbols bound the section.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "threadprocs/tp.h"

extern "C" {
extern const tp_export_record __start_tp_exports[];
extern const tp_export_record __stop_tp_exports[];
extern long c_counter;
extern const int c_const_value;
struct c_pair {
  int a, b;
};
extern c_pair c_pair_value;
void* c_table_address(void);
}
namespace ns {
extern int cpp_counter;
extern const char cpp_text[5];
struct Widget {
  int id;
  double weight;
};
extern Widget widget;
}  // namespace ns
void* cpp_string_address();

namespace {

std::map<std::string, tp_export_record> records() {
  std::map<std::string, tp_export_record> m;
  for (const tp_export_record* r = __start_tp_exports; r < __stop_tp_exports; ++r) m[r->name] = *r;
  return m;
}

TEST(CrtExport, RecordsFromCAndCpp) {
  const auto m = records();
  EXPECT_EQ(m.size(), 8u);
  auto expect = [&](const char* name, const void* address, std::uint64_t size) {
    auto it = m.find(name);
    ASSERT_NE(it, m.end()) << name;
    EXPECT_EQ(it->second.address, address) << name;
    EXPECT_EQ(it->second.size, size) << name;
  };
  expect("c_counter", &c_counter, sizeof(long));
  expect("c_table", c_table_address(), 16 * sizeof(double));
  expect("c_const_value", &c_const_value, sizeof(int));
  expect("c_pair_value", &c_pair_value, sizeof(c_pair));
  expect("ns::cpp_counter", &ns::cpp_counter, sizeof(int));
  expect("ns::cpp_text", ns::cpp_text, 5);
  expect("widget", &ns::widget, sizeof(ns::Widget));
  expect("cpp_string", cpp_string_address(), sizeof(std::string));
}

TEST(CrtExport, RecordsAreContiguous) {
  EXPECT_EQ((reinterpret_cast<const char*>(__stop_tp_exports) - reinterpret_cast<const char*>(__start_tp_exports)) %
                sizeof(tp_export_record),
            0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(__start_tp_exports) % 8, 0u);
}

}  // namespace
