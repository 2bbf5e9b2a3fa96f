// Error values and Result<T>: every library stage returns one of these instead of
// printing or throwing. The codes, their severity and exit class are declared once, in
// error_codes.def.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shcx {

enum class ErrorCode {
#define SHCX_ERROR(name, severity, exit, meaning) name,
#include "shcx/error_codes.def"
#undef SHCX_ERROR
};

enum class Severity { Error, Warning };

// The exit status a code gives when it decides a command's outcome (see shcx(1)).
enum class ExitClass : int { None = 0, Negative = 1, Failure = 2 };

struct CodeInfo {
    ErrorCode code;
    std::string_view name;  // stable SCREAMING_SNAKE name, e.g. "QR_CHUNK_MISSING"
    Severity severity;
    ExitClass exit;
    std::string_view meaning;  // one line
};

// Every code, in declaration order.
std::span<const CodeInfo> all_codes();
const CodeInfo& info(ErrorCode code);
inline std::string_view code_name(ErrorCode code) { return info(code).name; }
inline Severity severity(ErrorCode code) { return info(code).severity; }
inline ExitClass exit_class(ErrorCode code) { return info(code).exit; }

struct Error {
    ErrorCode code;
    std::string message;
};

// A value or an Error. Deliberately small: ok(), value(), error().
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

inline Error make_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace shcx
