// Expected<T, E>: a value or an error, the error type of this library's fallible calls.
//
// Contract: holds exactly one of T or E. value()/error() REQUIRE the matching state; calling
// the wrong accessor is a broken invariant and throws std::logic_error. Not thread safe beyond
// what T and E provide (treat like any value type). Status is Expected<void, std::string>.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace enkisys::security {

// Tag wrapper so that Expected<std::string, std::string> stays unambiguous.
template <class E>
struct Unexpected {
  E error;
};
template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
  return {std::forward<E>(e)};
}

template <class T, class E>
class Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  template <class G>
  Expected(Unexpected<G> u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return check_value(), std::get<0>(v_); }
  const T& value() const& { return check_value(), std::get<0>(v_); }
  T&& value() && { return check_value(), std::get<0>(std::move(v_)); }
  const E& error() const {
    if (ok()) {
      throw std::logic_error("Expected::error() called on a value");
    }
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check_value() const {
    if (!ok()) {
      throw std::logic_error("Expected::value() called on an error");
    }
  }
  std::variant<T, E> v_;
};

// Success or an error message.
class Status {
 public:
  Status() = default;
  static Status Ok() { return {}; }
  static Status Error(std::string message) {
    Status s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  std::string message_;
};

}  // namespace enkisys::security
