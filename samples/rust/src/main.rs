//! A Rust program in a Threadprocs space: it exports a static (TP_EXPORT's
//! record, written in Rust), finds it again by "rust-sample/GREETING" through
//! the space, publishes a heap vector and checks which slot owns it.
use std::ffi::{c_void, CStr};
use std::os::raw::{c_char, c_int};
use std::ptr;

/// `struct tp_self_info` of threadprocs/tp.h.
#[repr(C)]
struct TpSelfInfo {
    slot: u32,
    slot_count: u32,
    slot_base: u64,
    slot_size: u64,
    arena_base: u64,
    name: *const c_char,
}

/// `struct tp_export_record` of threadprocs/abi.h.
#[repr(C)]
pub struct TpExportRecord {
    name: *const c_char,
    address: *const c_void,
    size: u64,
}
// The record only holds addresses of statics.
unsafe impl Sync for TpExportRecord {}

extern "C" {
    fn tp_self(out: *mut TpSelfInfo) -> c_int;
    fn tp_strerror(code: c_int) -> *const c_char;
    fn tp_lookup(name: *const c_char, out: *mut *mut c_void) -> c_int;
    fn tp_publish(name: *const c_char, p: *const c_void) -> c_int;
    fn tp_owner(p: *const c_void) -> c_int;
}

static GREETING: [u8; 16] = *b"hello from Rust\0";

// What TP_EXPORT(GREETING) expands to in C: a record in section tp_exports.
#[used]
#[link_section = "tp_exports"]
static GREETING_EXPORT: TpExportRecord = TpExportRecord {
    name: b"GREETING\0".as_ptr() as *const c_char,
    address: &GREETING as *const [u8; 16] as *const c_void,
    size: 16,
};

fn error_text(code: c_int) -> String {
    unsafe { CStr::from_ptr(tp_strerror(code)) }.to_string_lossy().into_owned()
}

fn main() {
    let mut me = TpSelfInfo { slot: 0, slot_count: 0, slot_base: 0, slot_size: 0, arena_base: 0, name: ptr::null() };
    let rc = unsafe { tp_self(&mut me) };
    if rc != 0 {
        println!("rust-sample: {}", error_text(rc));
        return;
    }
    let name = unsafe { CStr::from_ptr(me.name) }.to_string_lossy().into_owned();
    println!("rust-sample: slot {} of {}, name {}", me.slot, me.slot_count, name);

    let mut found: *mut c_void = ptr::null_mut();
    let rc = unsafe { tp_lookup(b"rust-sample/GREETING\0".as_ptr() as *const c_char, &mut found) };
    if rc != 0 {
        eprintln!("rust-sample: lookup of rust-sample/GREETING: {}", error_text(rc));
        std::process::exit(1);
    }
    let text = unsafe { CStr::from_ptr(found as *const c_char) }.to_string_lossy().into_owned();
    println!("rust-sample: rust-sample/GREETING is \"{}\" ({})", text,
             if found as *const u8 == GREETING.as_ptr() { "the static itself" } else { "a copy?" });

    let numbers: Vec<u64> = (1..=1000).collect();
    let rc = unsafe { tp_publish(b"rust-numbers\0".as_ptr() as *const c_char, numbers.as_ptr() as *const c_void) };
    if rc != 0 {
        eprintln!("rust-sample: publish: {}", error_text(rc));
        std::process::exit(1);
    }
    let owner = unsafe { tp_owner(numbers.as_ptr() as *const c_void) };
    println!("rust-sample: published rust-numbers (sum {}), owned by slot {}", numbers.iter().sum::<u64>(), owner);
    if owner != me.slot as c_int {
        std::process::exit(1);
    }
}
