// bench_handoff: hands a std::unordered_map<std::string, std::string> built by
// program A over to program B, which reads every entry; the four ways a user
// would do it, with the same map, the same Unix stream socket between A and B
// and the same measurement (bench/handoff_compare runs them side by side):
//
//   ptr  A sends B the map's 8-byte address; B reads A's map in place and then
//        deletes it (cross-program free). Only meaningful when A and B are
//        two programs of one Threadprocs space (tp-run --space NAME).
//   ser  length-prefixed serialization, streamed: A serializes into 256 KiB
//        chunks and writes each one while B reads and deserializes the
//        previous ones into its own std::unordered_map (reserved to the
//        count), so both CPUs work at once. B then reads every entry.
//   bip  Boost.Interprocess: A creates a managed_shared_memory segment and
//        copies every entry into a boost::unordered_map of interprocess
//        strings living in it; B opens the segment, finds the map and reads
//        every entry in place.
//   threads: the ptr handoff between two threads of one process (a
//        socketpair), the baseline.
//
// A is pinned to the first CPU and B to the second (pin.h).
// What is timed (CLOCK_MONOTONIC, one clock for the whole machine): t0 is
// taken by A once its map is built and checksummed and B is awake (see
// start_handoff), right before it starts handing over (for ser and bip,
// before serializing / creating the segment).
// B reports  ready = (B holds a usable map) - t0  and  read = (B has read
// every byte of every key and value, and checked the count and checksum
// against A's) - t0, then the time it takes to free the map (ptr, threads:
// A's map; ser: B's own copy; bip: nothing, A removes the segment).
// B prints "ready_ns=R read_ns=T free_ns=F".
//
// usage: bench_handoff features                 ("boost=1" when built with Boost)
//        bench_handoff threads N
//        bench_handoff recv KIND SOCKET           (B: listens, prints "listening")
//        bench_handoff send KIND N SOCKET [SHM]   (A: connects, builds, hands over)
//   KIND is ptr, ser or bip; SHM is the segment name for bip.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "pin.h"

#ifdef TP_BENCH_HAVE_BOOST
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/unordered_map.hpp>
#endif

namespace {

using Map = std::unordered_map<std::string, std::string>;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void die(const char* what) {
  fprintf(stderr, "bench_handoff: %s: %s\n", what, strerror(errno));
  exit(1);
}

[[noreturn]] void fail(const char* what) {
  fprintf(stderr, "bench_handoff: %s\n", what);
  exit(1);
}

// A fast word-at-a-time hash: reading every byte must not cost more than the
// memory traffic it causes.
uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = (n + 1) * 0x9E3779B97F4A7C15ull;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  memcpy(&w, p, n);
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 29);
}

// Order-independent: a sum over the entries.
uint64_t entry_sum(const char* k, size_t kn, const char* v, size_t vn) {
  return hash_bytes(k, kn) + 3 * hash_bytes(v, vn);
}

// Keys of 21 bytes and values of 39 (both beyond std::string's 15-byte
// inline buffer, as real keys and values usually are).
Map* build(uint64_t n, uint64_t& checksum) {
  auto* m = new Map;
  checksum = 0;
  char k[32], v[64];
  for (uint64_t i = 0; i < n; ++i) {
    int kn = snprintf(k, sizeof k, "user:%016" PRIu64, i * 2654435761u);
    int vn = snprintf(v, sizeof v, "value-%016" PRIx64 "-%016" PRIx64, uint64_t(i * 0x9E3779B97F4A7C15ull), uint64_t(~i));
    m->emplace(std::string(k, size_t(kn)), std::string(v, size_t(vn)));
    checksum += entry_sum(k, size_t(kn), v, size_t(vn));
  }
  return m;
}

template <typename M>
uint64_t read_all(const M& m, uint64_t& count) {
  uint64_t sum = 0;
  count = 0;
  for (const auto& [k, v] : m) {
    sum += entry_sum(k.data(), k.size(), v.data(), v.size());
    ++count;
  }
  return sum;
}

// What A sends first, in every kind.
struct Header {
  int64_t t0_ns;
  uint64_t count;
  uint64_t checksum;
  uint64_t payload;  // ptr: the map's address; bip: the segment's size; ser: 0
};

// Both sides poll the socket (it is non-blocking) instead of sleeping in
// read/write: what is timed is the handoff, not how long the scheduler takes
// to wake a sleeping task on the other CPU (50-120 us on a virtual machine).
void write_all(int fd, const void* p, size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
      sched_yield();
      continue;
    }
    if (w <= 0) die("write");
    c += w;
    n -= size_t(w);
  }
}

void read_exact(int fd, void* p, size_t n) {
  auto* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
      sched_yield();
      continue;
    }
    if (r < 0) die("read");
    if (r == 0) fail("the other side closed the socket early");
    c += r;
    n -= size_t(r);
  }
}

void check(uint64_t count, uint64_t sum, const Header& h) {
  if (count != h.count || sum != h.checksum) {
    fprintf(stderr, "bench_handoff: B read %" PRIu64 " entries (checksum %" PRIx64 "), A sent %" PRIu64
                    " (checksum %" PRIx64 ")\n",
            count, sum, h.count, h.checksum);
    exit(1);
  }
}

// Before the clock starts, A and B exchange one byte, so that both are
// running on their CPUs when the handoff begins: B sleeps (poll) while A
// builds its map, wakes on A's byte, answers and polls from then on; A starts
// the clock once it has B's answer. On a loaded machine a task that has just
// woken up is unlikely to lose its CPU in the next microseconds, where one
// that has polled for long may be waiting for its turn at any moment (the
// scheduler's wake-up is not timed). Measured with other builds running: the
// handoff's median stays at a few µs this way; with B polling all along, some
// sizes had medians of hundreds of µs.
void start_handoff(int fd) {  // A
  write_all(fd, "S", 1);
  char c;
  read_exact(fd, &c, 1);
}

void await_handoff(int fd) {  // B
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  char c;
  read_exact(fd, &c, 1);
  write_all(fd, "R", 1);
}

void report(int64_t t0, int64_t ready, int64_t read, int64_t free_ns) {
  printf("ready_ns=%" PRId64 " read_ns=%" PRId64 " free_ns=%" PRId64 "\n", ready - t0, read - t0, free_ns);
  fflush(stdout);
}

// ---- ptr (and threads): the map's address --------------------------------

void ptr_send(int fd, uint64_t n) {
  uint64_t checksum;
  Map* m = build(n, checksum);
  start_handoff(fd);
  Header h{now_ns(), n, checksum, reinterpret_cast<uintptr_t>(m)};
  write_all(fd, &h, sizeof h);
}

void ptr_recv(int fd) {
  await_handoff(fd);
  Header h;
  read_exact(fd, &h, sizeof h);
  auto* m = reinterpret_cast<Map*>(static_cast<uintptr_t>(h.payload));
  int64_t ready = now_ns();
  uint64_t count;
  uint64_t sum = read_all(*m, count);
  int64_t read = now_ns();
  check(count, sum, h);
  int64_t f0 = now_ns();
  delete m;
  report(h.t0_ns, ready, read, now_ns() - f0);
}

// ---- ser: length-prefixed, streamed in chunks ----------------------------

constexpr size_t kChunk = 256 * 1024;

void put_u32(char*& p, uint32_t v) {
  memcpy(p, &v, 4);
  p += 4;
}

void ser_send(int fd, uint64_t n) {
  uint64_t checksum;
  Map* m = build(n, checksum);
  start_handoff(fd);
  Header h{now_ns(), n, checksum, 0};
  std::unique_ptr<char[]> chunk(new char[kChunk]);
  char* p = chunk.get();
  memcpy(p, &h, sizeof h);
  p += sizeof h;
  for (const auto& [k, v] : *m) {
    size_t need = 8 + k.size() + v.size();
    if (need > kChunk) fail("entry larger than a chunk");
    if (size_t(p - chunk.get()) + need > kChunk) {
      write_all(fd, chunk.get(), size_t(p - chunk.get()));
      p = chunk.get();
    }
    put_u32(p, uint32_t(k.size()));
    memcpy(p, k.data(), k.size());
    p += k.size();
    put_u32(p, uint32_t(v.size()));
    memcpy(p, v.data(), v.size());
    p += v.size();
  }
  write_all(fd, chunk.get(), size_t(p - chunk.get()));
  delete m;  // after the handoff: not timed (B's clock stops first or runs on)
}

void ser_recv(int fd) {
  await_handoff(fd);
  Header h;
  read_exact(fd, &h, sizeof h);
  Map m;
  m.reserve(h.count);
  const size_t cap = 4 * kChunk;
  std::unique_ptr<char[]> buf(new char[cap]);
  size_t filled = 0, pos = 0;
  for (uint64_t got = 0; got < h.count;) {
    // Parse every complete entry in [pos, filled).
    while (got < h.count && filled - pos >= 4) {
      uint32_t kn, vn;
      memcpy(&kn, buf.get() + pos, 4);
      if (filled - pos < 8 + size_t(kn)) break;
      memcpy(&vn, buf.get() + pos + 4 + kn, 4);
      if (filled - pos < 8 + size_t(kn) + vn) break;
      const char* k = buf.get() + pos + 4;
      const char* v = k + kn + 4;
      m.emplace(std::string(k, kn), std::string(v, vn));
      pos += 8 + size_t(kn) + vn;
      ++got;
    }
    if (got == h.count) break;
    memmove(buf.get(), buf.get() + pos, filled - pos);
    filled -= pos;
    pos = 0;
    ssize_t r = read(fd, buf.get() + filled, cap - filled);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
      sched_yield();
      continue;
    }
    if (r < 0) die("read");
    if (r == 0) fail("the sender closed the socket early");
    filled += size_t(r);
  }
  int64_t ready = now_ns();
  uint64_t count;
  uint64_t sum = read_all(m, count);
  int64_t read = now_ns();
  check(count, sum, h);
  int64_t f0 = now_ns();
  m = Map();
  report(h.t0_ns, ready, read, now_ns() - f0);
}

// ---- bip: Boost.Interprocess managed_shared_memory -----------------------

#ifdef TP_BENCH_HAVE_BOOST
namespace bip = boost::interprocess;
using Segment = bip::managed_shared_memory;
using CharAlloc = bip::allocator<char, Segment::segment_manager>;
using ShmString = bip::basic_string<char, std::char_traits<char>, CharAlloc>;
using ShmValue = std::pair<const ShmString, ShmString>;
using ShmAlloc = bip::allocator<ShmValue, Segment::segment_manager>;
struct ShmHash {
  size_t operator()(const ShmString& s) const { return hash_bytes(s.data(), s.size()); }
};
using ShmMap = boost::unordered_map<ShmString, ShmString, ShmHash, std::equal_to<ShmString>, ShmAlloc>;

void bip_send(int fd, uint64_t n, const char* shm) {
  uint64_t checksum;
  Map* m = build(n, checksum);
  bip::shared_memory_object::remove(shm);
  // Room for every entry with the segment's own overhead; pages never
  // touched cost nothing (tmpfs).
  uint64_t size = (uint64_t(1) << 20) + n * 400;
  start_handoff(fd);
  Header h{now_ns(), n, checksum, size};
  {
    Segment seg(bip::create_only, shm, size);
    CharAlloc chars(seg.get_segment_manager());
    auto* sm = seg.construct<ShmMap>("map")(n, ShmHash(), std::equal_to<ShmString>(), ShmAlloc(seg.get_segment_manager()));
    for (const auto& [k, v] : *m) sm->emplace(ShmString(k.data(), k.size(), chars), ShmString(v.data(), v.size(), chars));
    // The header, then the segment's name (B must know what to open).
    uint32_t len = uint32_t(strlen(shm));
    char msg[sizeof h + 4 + 256];
    if (len > 255) fail("segment name too long");
    memcpy(msg, &h, sizeof h);
    memcpy(msg + sizeof h, &len, 4);
    memcpy(msg + sizeof h + 4, shm, len);
    write_all(fd, msg, sizeof h + 4 + len);
  }
  delete m;
}

void bip_recv(int fd) {
  await_handoff(fd);
  Header h;
  read_exact(fd, &h, sizeof h);
  uint32_t len;
  read_exact(fd, &len, 4);
  std::string name(len, '\0');
  read_exact(fd, name.data(), len);
  Segment seg(bip::open_only, name.c_str());
  ShmMap* m = seg.find<ShmMap>("map").first;
  if (!m) fail("no map in the segment");
  int64_t ready = now_ns();
  uint64_t count;
  uint64_t sum = read_all(*m, count);
  int64_t read = now_ns();
  check(count, sum, h);
  report(h.t0_ns, ready, read, 0);
}
#endif

// ---- sockets -------------------------------------------------------------

sockaddr_un address(const char* path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path) fail("socket path too long");
  strcpy(a.sun_path, path);
  return a;
}

int listen_and_accept(const char* path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  sockaddr_un a = address(path);
  unlink(path);
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  if (listen(s, 1) != 0) die("listen");
  printf("listening\n");
  fflush(stdout);
  pollfd p{s, POLLIN, 0};
  if (poll(&p, 1, 60000) != 1) fail("no sender connected within a minute");
  int c = accept4(s, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0) die("accept");
  close(s);
  unlink(path);
  return c;
}

int connect_to(const char* path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  sockaddr_un a = address(path);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  if (fcntl(s, F_SETFL, O_NONBLOCK) != 0) die("fcntl");
  return s;
}

// B tells A it is done with A's memory (A may exit, or remove the segment).
void ack(int fd) { write_all(fd, "k", 1); }

void wait_ack(int fd) {
  char c;
  read_exact(fd, &c, 1);
}

}  // namespace

int main(int argc, char** argv) {
  alarm(600);  // never outlive a stuck benchmark
  if (argc == 2 && strcmp(argv[1], "features") == 0) {
#ifdef TP_BENCH_HAVE_BOOST
    printf("boost=1\n");
#else
    printf("boost=0\n");
#endif
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "threads") == 0) {
    uint64_t n = strtoull(argv[2], nullptr, 10);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0) die("socketpair");
    run_pinned_pair(
        [&] {
          ptr_send(sv[0], n);
          wait_ack(sv[0]);
        },
        [&] {
          ptr_recv(sv[1]);
          ack(sv[1]);
        });
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "recv") == 0) {
    std::string kind = argv[2];
    pin_side(1);
    int fd = listen_and_accept(argv[3]);
    if (kind == "ptr") ptr_recv(fd);
    else if (kind == "ser") ser_recv(fd);
#ifdef TP_BENCH_HAVE_BOOST
    else if (kind == "bip") bip_recv(fd);
#endif
    else fail("unknown kind");
    ack(fd);
    return 0;
  }
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "send") == 0) {
    std::string kind = argv[2];
    uint64_t n = strtoull(argv[3], nullptr, 10);
    pin_side(0);
    int fd = connect_to(argv[4]);
    if (kind == "ptr") ptr_send(fd, n);
    else if (kind == "ser") ser_send(fd, n);
#ifdef TP_BENCH_HAVE_BOOST
    else if (kind == "bip" && argc == 6) {
      bip_send(fd, n, argv[5]);
      wait_ack(fd);
      bip::shared_memory_object::remove(argv[5]);
      return 0;
    }
#endif
    else fail("unknown kind");
    wait_ack(fd);
    return 0;
  }
  fprintf(stderr,
          "usage: %s threads N | recv ptr|ser|bip SOCKET | send ptr|ser N SOCKET | send bip N SOCKET SHM\n",
          argv[0]);
  return 2;
}
