// Command-line flags for the trainers: declared once with a default and a help line, so that
// --help lists every flag with its default and a bad flag or value is a message + exit status 2.
//
//   Flags flags("train_mnist", "Trains mnist_cnn on MNIST.");
//   int64_t& epochs = flags.add_int("epochs", 3, "passes over the training set");
//   flags.parse(argc, argv);   // exits 0 after --help, 2 after a bad flag or value
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace glimpse {

// "train_mnist (glimpse 0.1.0, commit 802bf3a)": what --version prints.
std::string version_line(const std::string& program);

class Flags {
 public:
  Flags(std::string program, std::string summary);

  int64_t& add_int(const std::string& name, int64_t default_value, const std::string& help,
                   int64_t min_value = INT64_MIN, int64_t max_value = INT64_MAX);
  double& add_real(const std::string& name, double default_value, const std::string& help, double min_value = -1e300,
                   double max_value = 1e300);
  std::string& add_string(const std::string& name, const std::string& default_value, const std::string& help);
  // A string that must be one of `choices`; a wrong one lists them.
  std::string& add_choice(const std::string& name, const std::string& default_value,
                          const std::vector<std::string>& choices, const std::string& help);
  bool& add_bool(const std::string& name, const std::string& help);  // --name sets it; default false

  // The same flags bound to a variable of the caller's, e.g. a field of a struct of plain values
  // (train/training_flags.h); the variable's value when bound is the default.
  void bind(const std::string& name, int64_t& variable, const std::string& help, int64_t min_value = INT64_MIN,
            int64_t max_value = INT64_MAX);
  void bind(const std::string& name, double& variable, const std::string& help, double min_value = -1e300,
            double max_value = 1e300);
  void bind(const std::string& name, std::string& variable, const std::string& help);
  void bind(const std::string& name, bool& variable, const std::string& help);
  void bind(const std::string& name, std::string& variable, const std::vector<std::string>& choices,
            const std::string& help);

  // The arguments that are not flags (predict's image files), in order; `name` stands for them in
  // the usage line ("IMAGE..."). Without this, such an argument is a usage error.
  std::vector<std::string>& add_positional(const std::string& name, const std::string& help);

  // --name value, --name=value; a separate value may not start with -- (it would be a flag
  // swallowed: "--save --quiet"); --name=--value gives one that does. --help and --version print
  // and exit 0. After "--" every argument is a positional one.
  void parse(int argc, char** argv);
  bool was_given(const std::string& name) const;
  std::string help_text() const;
  // Prints "program: message" and the usage hint to stderr, then exits with status 2.
  [[noreturn]] void usage_error(const std::string& message) const;

 private:
  enum class Kind { Int, Real, String, Choice, Bool };
  struct Flag {
    std::string name, help, default_text;
    Kind kind;
    int64_t* int_value = nullptr;
    double* real_value = nullptr;
    std::string* string_value = nullptr;
    bool* bool_value = nullptr;
    double min_value = 0, max_value = 0;
    std::vector<std::string> choices;
    bool given = false;
  };
  Flag& declare(const std::string& name, Kind kind, const std::string& help, std::string default_text);
  Flag* find(const std::string& name);
  void set_value(Flag& flag, const std::string& text);

  std::string program_, summary_;
  std::vector<Flag> flags_;
  std::string positional_name_, positional_help_;  // empty name: no positional arguments
  std::vector<std::string> positional_;
  // deques: references handed out by add_* stay valid as more flags are added
  std::deque<int64_t> ints_;
  std::deque<double> reals_;
  std::deque<std::string> strings_;
  std::deque<bool> bools_;
};

}  // namespace glimpse
