fn main() {
    std::process::exit(gemeinwerk::cli::main());
}
