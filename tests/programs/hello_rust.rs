// hello_rust: a Rust program (its own std, its own allocator calls through glibc) that
// prints a fixed greeting, its argument count and a few heap-built values.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let squares: Vec<u64> = (1..=5).map(|n| n * n).collect();
    let words = args.join(" ");
    println!("hello from rust");
    println!("args: {} [{}]", args.len(), words);
    println!("squares: {:?}", squares);
}
