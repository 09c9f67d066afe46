#include "cli/run.h"

int main(int argc, char** argv) {
    return iotspot::cli::run(argc, argv);
}
