#include "service_cli.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <iostream>

namespace enkisys::core::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

void declare_common(EnvConfig& cfg, const ServiceSpec& spec) {
  cfg.add({"PORT", "TCP port to listen on (0: chosen by the OS, logged at start)",
           std::to_string(spec.default_port), false, false, integer_in(0, 65535)});
  cfg.add({"BIND_ADDRESS", "address to listen on", "0.0.0.0"});
  cfg.add(
      {"LISTEN_ADDRESS", "deprecated alias of BIND_ADDRESS (used when BIND_ADDRESS is unset)", ""});
  cfg.add({"LOG_LEVEL", "debug | info | warn | error", "info", false, false,
           one_of({"debug", "info", "warn", "warning", "error"})});
  cfg.add({"THREADS", "I/O threads", std::to_string(spec.default_threads), false, false,
           integer_in(1, 256)});
  cfg.add({"BLOCKING_THREADS", "threads for database and file work", "4", false, false,
           integer_in(1, 256)});
  cfg.add({"MAX_BODY_BYTES", "largest accepted request body", "1048576", false, false,
           integer_in(1024, 64LL * 1024 * 1024)});
  cfg.add({"ACCESS_LOG", "one JSON log line per request: on | off", "on", false, false,
           one_of({"on", "off"})});
}

ParsedArgs parse_args(const ServiceSpec& spec, int argc, char** argv) {
  ParsedArgs out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return {ParsedArgs::Action::kHelp, nullptr, {}, {}};
    if (arg == "--version") return {ParsedArgs::Action::kVersion, nullptr, {}, {}};
    if (arg == "--healthcheck") {
      out.action = ParsedArgs::Action::kHealthcheck;
      continue;
    }
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    bool known = false;
    for (const auto& o : spec.options) {
      if (o.name != arg) continue;
      known = true;
      if (o.value_name.empty()) {
        out.options[arg] = "";
      } else if (inline_value) {
        out.options[arg] = *inline_value;
      } else if (i + 1 < argc) {
        out.options[arg] = argv[++i];
      } else {
        return {ParsedArgs::Action::kError, nullptr, {}, arg + " needs a value " + o.value_name};
      }
    }
    for (const auto& c : spec.commands) {
      if (c.name != arg) continue;
      known = true;
      if (out.action == ParsedArgs::Action::kRun) out.action = ParsedArgs::Action::kCommand;
      out.command = &c;
    }
    if (!known) return {ParsedArgs::Action::kError, nullptr, {}, "unknown argument: " + arg};
  }
  return out;
}

std::string options_help(const ServiceSpec& spec) {
  std::string s = "\nOptions:\n";
  auto line = [&s](const std::string& name, const std::string& help) {
    s += "  " + name;
    s += std::string(name.size() < 18 ? 18 - name.size() : 1, ' ');
    s += help + "\n";
  };
  for (const auto& o : spec.options) {
    line(o.name + (o.value_name.empty() ? "" : " " + o.value_name), o.help);
  }
  for (const auto& c : spec.commands) line(c.name, c.help);
  line("--healthcheck",
       "GET $BIND_ADDRESS:$PORT/health (127.0.0.1 for a wildcard), exit 0 iff 200");
  line("--version", "print the version and exit");
  line("--help", "this text");
  return s;
}

std::string healthcheck_address(const std::string& bind_address) {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(bind_address, ec);
  if (ec || a.is_unspecified()) return "127.0.0.1";
  return a.to_string();
}

int healthcheck(const std::string& address, unsigned short port) {
  try {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(3));
    const auto ip = asio::ip::make_address(address);
    stream.connect(asio::ip::tcp::endpoint(ip, port));
    http::request<http::empty_body> req{http::verb::get, "/health", 11};
    req.set(http::field::host, ip.is_v6() ? "[" + address + "]" : address);
    req.set(http::field::user_agent, "enkisys-healthcheck");
    req.keep_alive(false);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    std::cout << res.body() << "\n";
    return res.result() == http::status::ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "healthcheck failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace enkisys::core::detail
