#include "store/key_file.h"

#include <sodium.h>

#include "core/error.h"
#include "store/files.h"

namespace iotspot::store {

core::Key load_or_create_key(const std::string& path) {
    ensure_private_dir(parent_dir(path));
    check_private_file(path, "key file");
    auto content = read_file(path, "key file");
    if (!content) {
        const core::Key fresh = core::Key::random();
        content = create_file_once(
            path, std::string(reinterpret_cast<const char*>(fresh.data()), core::Key::size),
            "key file");
    }
    std::string& bytes = *content; // one name for the buffer that is wiped
    auto key = core::Key::from_bytes(bytes);
    sodium_memzero(bytes.data(), bytes.size());
    if (!key) {
        throw core::Error(core::Exit::store, "key file " + path +
                                                 " is damaged (wrong size); remove it and run "
                                                 "iotspot-helper configure again");
    }
    return *key;
}

} // namespace iotspot::store
