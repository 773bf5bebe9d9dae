// A space: the arena plus what it takes to start programs in it. Used by the
// named-space host and by tp-run hosting a private space; it knows nothing of
// sockets or of the launcher.
#pragma once

#include <sys/types.h>

#include <array>
#include <map>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "elf/elf_image.h"
#include "space/arena.h"
#include "space/child_plan.h"
#include "space/control_region.h"
#include "space/exit_status.h"
#include "space/host_auxv.h"
#include "supervisor/supervisor.h"

namespace tp {

struct RlimitSpec {
  uint32_t resource;
  uint64_t cur, max;
};

// Everything one launch needs. File descriptors are borrowed.
struct LaunchSpec {
  int image_fd = -1;
  std::string exec_path;  // the path as the user resolved it: AT_EXECFN, comm
  std::vector<std::string> argv;
  std::vector<std::string> env;
  int cwd_fd = -1;                  // -1: the host's cwd
  std::array<int, 3> stdio{-1, -1, -1};  // -1: closed in the program
  uint64_t blocked = 0;             // signal mask of the launcher
  uint64_t ignored = 0;             // signals the launcher had at SIG_IGN
  uint32_t umask = 022;
  std::vector<RlimitSpec> rlimits;
  bool new_session = false;         // setsid(): programs of a named space
  bool private_heap = false;        // do not give it the space's shared allocator
};

struct LaunchedProgram {
  pid_t pid = 0;
  UniqueFd pidfd;
  uint32_t slot = 0;
  tp_child_plan* plan = nullptr;  // inside the slot; valid until it is reclaimed
  std::unique_ptr<Supervisor> supervisor;  // null for an unsupervised program
  uint64_t fixed_lo = 0, fixed_hi = 0;      // a fixed-address (ET_EXEC) image, outside the slot
  bool shared_heap = false;                 // it allocates with the space's allocator
  std::string name;                         // the note's program name, or the file's
  bool slot_aware = false;                  // the image carries the Threadprocs note
  bool at_link_address = false;             // loaded with a zero relocation delta
  int32_t wanted_slot = -1;                 // the note's fixed slot (tp-link --slot)
};

// A validated image and the name messages give it.
struct ReadImageRef {
  elf::ElfImage image;
  std::string name;
};

struct SpaceOptions {
  // Place every mapping of every program in its slot (the memory supervisor).
  bool supervise = true;
  unsigned supervisor_threads = 4;
  // LD_PRELOAD value that gives dynamically linked programs the space's
  // allocator (locate_space_allocator); empty: every program has its own heap.
  std::string allocator_preload;
};

class Space {
 public:
  // Reserves the arena and fences the host's program break (so no program can
  // grow the break all tasks of this mm share).
  static Result<std::unique_ptr<Space>> create(std::string name, const ArenaConfig& config,
                                               SpaceOptions options = {});

  const std::string& name() const { return name_; }
  const Arena& arena() const { return arena_; }

  Result<LaunchedProgram> launch(const LaunchSpec& spec);

  // Waits for the program to end (its pidfd is readable, or block until it
  // is). A trampoline failure comes back as an Error, not as an exit status.
  Result<ExitStatus> collect(LaunchedProgram& program);

  // Frees everything the program had: its slot, and its side mappings.
  Status reclaim(LaunchedProgram& program);

  // The program ended (after collect): the control region forgets its locks
  // and holds. Returns whether it held other slots (the caller re-checks those).
  bool forget(const LaunchedProgram& program) { return control_.on_exit(program.slot); }
  // How many holds (tp_hold) other programs have on the slot.
  uint64_t holders(uint32_t slot) const { return control_.holders(slot); }
  // Records that an ended program's memory stays (TP_SLOT_HELD / TP_SLOT_KEPT).
  void mark_slot(uint32_t slot, uint32_t state) { control_.set_state(slot, state); }
  // Before freeing a held or kept slot: true when nobody holds it (see
  // ControlRegion::try_unhold); false leaves it as it was.
  bool try_unhold(uint32_t slot) { return control_.try_unhold(slot); }

 private:
  Space(std::string name, Arena arena, ControlRegion control, HostAuxv auxv, uint64_t host_ignored,
        SpaceOptions options);
  Result<std::vector<tp_bpf_insn>> make_filter(std::optional<std::pair<uint64_t, uint64_t>> extra) const;
  // A fixed-address image needs its link-time range: refuses when the arena or
  // another program of the space holds it.
  Status check_fixed_range(const ReadImageRef& image) const;
  Status hand_over_listener(LaunchedProgram& program, uint64_t alloc_lo,
                            uint64_t alloc_hi, uint64_t brk_start, uint64_t brk_limit,
                            const std::vector<std::pair<uint64_t, uint64_t>>& in_use);
  std::string name_;
  Arena arena_;
  ControlRegion control_;
  HostAuxv auxv_;
  uint64_t host_ignored_;  // the host's own SIG_IGN dispositions
  SpaceOptions options_;
  std::vector<tp_bpf_insn> filter_;  // the supervisor's filter for this arena
  std::unique_ptr<SupervisorPool> supervisors_;
  struct FixedImage {
    uint64_t hi;
    uint32_t slot;
    pid_t pid;
    std::string name;
  };
  std::map<uint64_t, FixedImage> fixed_images_;  // by start address
};

// Maps a guard page at the current program break. All tasks of an mm share one
// break; with the guard there, no program can grow it, and glibc's malloc in
// every program falls back to mmap'd heap growth.
Status fence_program_break();

}  // namespace tp
