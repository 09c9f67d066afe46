#include "core/crypto.h"

#include <vector>

#include <sodium.h>

#include "core/error.h"

namespace iotspot::core {

namespace {

void init_sodium() {
    if (sodium_init() < 0) {
        throw Error(Exit::store, "cannot initialise libsodium (no system randomness?)");
    }
}

constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;

} // namespace

std::optional<Key> Key::from_bytes(std::string_view bytes) {
    if (bytes.size() != size) {
        return std::nullopt;
    }
    Key key;
    std::copy(bytes.begin(), bytes.end(), key.bytes_.begin());
    return key;
}

Key Key::random() {
    init_sodium();
    Key key;
    randombytes_buf(key.bytes_.data(), key.bytes_.size());
    return key;
}

std::string seal(const Key& key, std::string_view plaintext, std::string_view associated_data) {
    std::string out(nonce_size + plaintext.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(nonce, nonce_size);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        nonce + nonce_size, &written, reinterpret_cast<const unsigned char*>(plaintext.data()),
        plaintext.size(), reinterpret_cast<const unsigned char*>(associated_data.data()),
        associated_data.size(), nullptr, nonce, key.data());
    out.resize(nonce_size + written);
    return out;
}

std::optional<std::string> open(const Key& key, std::string_view sealed,
                                std::string_view associated_data) {
    if (sealed.size() < nonce_size + tag_size) {
        return std::nullopt;
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string plain(sealed.size() - nonce_size - tag_size, '\0');
    unsigned long long written = 0;
    const int status = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, nonce + nonce_size,
        sealed.size() - nonce_size, reinterpret_cast<const unsigned char*>(associated_data.data()),
        associated_data.size(), nonce, key.data());
    if (status != 0) {
        return std::nullopt;
    }
    plain.resize(written);
    return plain;
}

std::string associated_data(std::string_view purpose,
                            std::initializer_list<std::string_view> fields) {
    std::string out(purpose);
    for (const auto field : fields) {
        out.push_back('\0');
        out.append(field);
    }
    return out;
}

std::string random_hex(std::size_t bytes) {
    init_sodium();
    std::vector<unsigned char> raw(bytes);
    randombytes_buf(raw.data(), raw.size());
    std::string hex(bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
    hex.pop_back();
    return hex;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace iotspot::core
