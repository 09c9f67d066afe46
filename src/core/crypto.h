#pragma once
// Authenticated encryption of tokens and secrets at rest (libsodium's
// XChaCha20-Poly1305-IETF): a fresh random 192-bit nonce per seal, and associated data that
// binds a sealed value to the row it belongs in, so a value copied to another row or
// another profile fails to open.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace iotspot::core {

class Key {
public:
    static constexpr std::size_t size = 32;

    /// A random key: a new key file's content, and tests.
    static Key random();

    /// The key whose bytes are `bytes`; nullopt unless it holds exactly `size` bytes.
    static std::optional<Key> from_bytes(std::string_view bytes);

    const unsigned char* data() const { return bytes_.data(); }

private:
    std::array<unsigned char, size> bytes_{};
};

/// Encrypts `plaintext`; the result is nonce || ciphertext || tag.
std::string seal(const Key& key, std::string_view plaintext, std::string_view associated_data);

/// Decrypts what seal() made with the same key and associated data; nullopt when anything
/// differs or was tampered with.
std::optional<std::string> open(const Key& key, std::string_view sealed,
                                std::string_view associated_data);

/// Joins the fields that identify a row into associated data: a purpose label, then each
/// field, separated by NUL bytes (which no field may contain).
std::string associated_data(std::string_view purpose,
                            std::initializer_list<std::string_view> fields);

/// Random bytes, hex-encoded (2 * `bytes` characters).
std::string random_hex(std::size_t bytes);

/// Compares two strings in time that depends only on their lengths.
bool equal_constant_time(std::string_view a, std::string_view b);

} // namespace iotspot::core
