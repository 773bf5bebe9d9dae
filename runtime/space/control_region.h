// The host's side of the control region (abi.h): the slot table, the registry
// and the holds matrix every program of the space reaches through
// AT_TP_CONTROL. libtp (crt/) is the programs' side; both follow the protocol
// written down in abi.h and docs/api.md. The host never blocks on anything a
// program holds: it only writes what belongs to a program that has ended.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "threadprocs/abi.h"

namespace tp {

struct SlotStart {
  int32_t pid = 0;
  std::string name;           // cut to fit tp_slot_info.name
  uint64_t load_bias = 0;
  uint64_t exports_begin = 0, exports_end = 0;  // run-time addresses
  uint32_t flags = 0;         // TP_SLOT_SLOT_AWARE | TP_SLOT_AT_LINK_ADDRESS
};

class ControlRegion {
 public:
  static Result<ControlRegion> create(uint32_t slot_count, uint32_t registry_capacity = TP_DEFAULT_REGISTRY_CAPACITY);
  ControlRegion(ControlRegion&& other) noexcept;
  ControlRegion& operator=(ControlRegion&&) = delete;
  ControlRegion(const ControlRegion&) = delete;
  ~ControlRegion();

  uint64_t address() const { return reinterpret_cast<uint64_t>(base_); }
  tp_control_header& header() const { return *static_cast<tp_control_header*>(base_); }
  // The layout is the host's own copy, taken when the region was made: any
  // program can write the header, and the host must not follow what it wrote.
  tp_slot_info& slot(uint32_t index) const { return slots_[index]; }
  tp_registry_entry& entry(uint32_t index) const { return registry_[index]; }
  uint32_t& holds(uint32_t holder, uint32_t owner) const { return holds_[uint64_t{holder} * slot_count_ + owner]; }
  uint32_t slot_count() const { return slot_count_; }

  // A program took the slot (before it runs: its slot info is complete when
  // it reads it).
  void on_start(uint32_t slot, const SlotStart& start);

  // The program in `slot` ended. Frees the registry lock if it held it, drops
  // every hold it had (returns whether it had any, so the caller re-checks held
  // slots), and marks the slot EXITING.
  bool on_exit(uint32_t slot);
  // How many holds other programs have on `slot` (after on_exit).
  uint64_t holders(uint32_t slot) const;
  // For a held or kept slot the host wants to free: marks it EXITING and
  // counts its holds again (the same handshake as on_exit, so a tp_hold racing
  // with it either counts or fails). True: nobody holds it, the caller frees
  // it. False: it stays, in the state it had.
  bool try_unhold(uint32_t slot);
  // The ended program's memory stays: held by others, or kept by --keep.
  void set_state(uint32_t slot, uint32_t state);
  // The slot is being reset: its registry entries go, the slot is FREE.
  void on_free(uint32_t slot);

 private:
  ControlRegion(void* base, uint64_t size);
  void bump_registry_generation();
  // Closes a registry entry (the seqlock write libtp uses) and empties it.
  void clear_entry(tp_registry_entry& e);
  void* base_;
  uint64_t size_;
  tp_slot_info* slots_;
  tp_registry_entry* registry_;
  uint32_t* holds_;
  uint32_t slot_count_, registry_capacity_;
};

}  // namespace tp
