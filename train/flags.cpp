#include "train/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace glimpse {

Flags::Flags(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {
  add_bool("help", "print this help and exit");
  add_bool("version", "print the version and exit");
}

std::string version_line(const std::string& program) {
  return program + " (glimpse " + GLIMPSE_VERSION + ", commit " + GLIMPSE_COMMIT + ")";
}

Flags::Flag& Flags::declare(const std::string& name, Kind kind, const std::string& help, std::string default_text) {
  if (find(name)) throw std::logic_error("flag --" + name + " declared twice");
  Flag flag;
  flag.name = name;
  flag.help = help;
  flag.kind = kind;
  flag.default_text = std::move(default_text);
  flags_.push_back(flag);
  return flags_.back();
}

static std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void Flags::bind(const std::string& name, int64_t& variable, const std::string& help, int64_t min_value,
                 int64_t max_value) {
  Flag& flag = declare(name, Kind::Int, help, std::to_string(variable));
  flag.int_value = &variable;
  flag.min_value = static_cast<double>(min_value);
  flag.max_value = static_cast<double>(max_value);
}

void Flags::bind(const std::string& name, double& variable, const std::string& help, double min_value,
                 double max_value) {
  Flag& flag = declare(name, Kind::Real, help, number_text(variable));
  flag.real_value = &variable;
  flag.min_value = min_value;
  flag.max_value = max_value;
}

void Flags::bind(const std::string& name, std::string& variable, const std::string& help) {
  Flag& flag = declare(name, Kind::String, help, variable.empty() ? "none" : variable);
  flag.string_value = &variable;
}

void Flags::bind(const std::string& name, bool& variable, const std::string& help) {
  Flag& flag = declare(name, Kind::Bool, help, variable ? "on" : "off");
  flag.bool_value = &variable;
}

int64_t& Flags::add_int(const std::string& name, int64_t default_value, const std::string& help, int64_t min_value,
                        int64_t max_value) {
  int64_t& value = ints_.emplace_back(default_value);
  bind(name, value, help, min_value, max_value);
  return value;
}

double& Flags::add_real(const std::string& name, double default_value, const std::string& help, double min_value,
                        double max_value) {
  double& value = reals_.emplace_back(default_value);
  bind(name, value, help, min_value, max_value);
  return value;
}

std::string& Flags::add_string(const std::string& name, const std::string& default_value, const std::string& help) {
  std::string& value = strings_.emplace_back(default_value);
  bind(name, value, help);
  return value;
}

void Flags::bind(const std::string& name, std::string& variable, const std::vector<std::string>& choices,
                 const std::string& help) {
  Flag& flag = declare(name, Kind::Choice, help, variable);
  flag.string_value = &variable;
  flag.choices = choices;
}

std::string& Flags::add_choice(const std::string& name, const std::string& default_value,
                               const std::vector<std::string>& choices, const std::string& help) {
  std::string& value = strings_.emplace_back(default_value);
  bind(name, value, choices, help);
  return value;
}

bool& Flags::add_bool(const std::string& name, const std::string& help) {
  bool& value = bools_.emplace_back(false);
  bind(name, value, help);
  return value;
}

Flags::Flag* Flags::find(const std::string& name) {
  for (Flag& flag : flags_)
    if (flag.name == name) return &flag;
  return nullptr;
}

bool Flags::was_given(const std::string& name) const {
  for (const Flag& flag : flags_)
    if (flag.name == name) return flag.given;
  return false;
}

void Flags::usage_error(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\nRun '%s --help' for the list of flags.\n", program_.c_str(), message.c_str(),
               program_.c_str());
  std::exit(2);
}

void Flags::set_value(Flag& flag, const std::string& text) {
  const std::string where = "--" + flag.name + " " + text;
  errno = 0;
  char* end = nullptr;
  switch (flag.kind) {
    case Kind::Int: {
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE) usage_error(where + ": not a whole number");
      if (v < flag.min_value || v > flag.max_value)
        usage_error(where + ": must be from " + number_text(flag.min_value) + " to " + number_text(flag.max_value));
      *flag.int_value = v;
      break;
    }
    case Kind::Real: {
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(v)) usage_error(where + ": not a finite number");
      if (v < flag.min_value || v > flag.max_value)
        usage_error(where + ": must be from " + number_text(flag.min_value) + " to " + number_text(flag.max_value));
      *flag.real_value = v;
      break;
    }
    case Kind::Choice: {
      bool known = false;
      for (const std::string& c : flag.choices) known = known || c == text;
      if (!known) {
        std::string list;
        for (const std::string& c : flag.choices) list += (list.empty() ? "" : ", ") + c;
        usage_error(where + ": unknown value; choose one of: " + list);
      }
      *flag.string_value = text;
      break;
    }
    case Kind::String:
      *flag.string_value = text;
      break;
    case Kind::Bool:
      break;
  }
}

std::vector<std::string>& Flags::add_positional(const std::string& name, const std::string& help) {
  positional_name_ = name;
  positional_help_ = help;
  return positional_;
}

void Flags::parse(int argc, char** argv) {
  bool only_positional = false;  // after "--"
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (!positional_name_.empty() && (only_positional || !arg.starts_with("--"))) {
      positional_.push_back(arg);
      continue;
    }
    if (arg.rfind("--", 0) != 0) usage_error("unexpected argument '" + arg + "' (flags start with --)");
    if (arg == "--" && !positional_name_.empty()) {
      only_positional = true;
      continue;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* flag = find(name);
    if (!flag) usage_error("unknown flag --" + name);
    flag->given = true;
    if (flag->kind == Kind::Bool) {
      if (has_value) usage_error("--" + name + " takes no value");
      *flag->bool_value = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) usage_error("--" + name + " needs a value");
      value = argv[++i];
      // "--save --quiet" would write a file named --quiet: the value forgotten, the flag swallowed.
      // (A negative number starts with one dash, so numeric flags take one as they are.)
      if (value.starts_with("--"))
        usage_error("--" + name + " needs a value, but the next argument '" + value + "' is a flag (for a value that " +
                    "starts with --, write --" + name + "=" + value + ")");
    }
    set_value(*flag, value);
  }
  if (*find("help")->bool_value) {
    std::fputs(help_text().c_str(), stdout);
    std::exit(0);
  }
  if (*find("version")->bool_value) {
    std::printf("%s\n", version_line(program_).c_str());
    std::exit(0);
  }
}

std::string Flags::help_text() const {
  std::ostringstream out;
  out << "usage: " << program_ << " [flags]" << (positional_name_.empty() ? "" : " " + positional_name_) << "\n"
      << summary_ << "\n\n";
  if (!positional_name_.empty()) out << "  " << positional_name_ << "  " << positional_help_ << "\n\n";
  out << "flags:\n";
  for (const Flag& flag : flags_) {
    std::string left = "  --" + flag.name;
    if (flag.kind == Kind::Int) left += " N";
    if (flag.kind == Kind::Real) left += " X";
    if (flag.kind == Kind::String) left += " VALUE";
    if (flag.kind == Kind::Choice) {
      std::string list;
      for (const std::string& c : flag.choices) list += (list.empty() ? "" : "|") + c;
      left += " " + list;
    }
    out << left;
    if (left.size() < 30)
      out << std::string(30 - left.size(), ' ');
    else
      out << "\n" << std::string(30, ' ');
    out << flag.help;
    if (flag.name != "help" && flag.name != "version") out << " (default: " << flag.default_text << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace glimpse
