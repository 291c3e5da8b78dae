// Parsing and merging TOML allocates many small strings and tables; glibc's
// malloc was a third of the instructions of a three-way merge.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(gemeinwerk::cli::main());
}
