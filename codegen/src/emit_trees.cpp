// C for the tree family, in one of two layouts that give the same answers (TreeLayout):
//   fast     every tree as straight-line compares and jumps in pre-order, one after another in
//            one function (groups of trees for a large forest), each leaf adding to the sums
//            where it is reached: no tables to decode, the fewest cycles;
//   compact  the split nodes are packed records (feature, threshold rank, and the children's
//            leaf codes or the splits of the left subtree, or in the counted format the leaves
//            of the left subtree; each field in as few bits as the model needs), in pre-order
//            per tree, walked by one loop: the left child is the next record and the right
//            child follows the left subtree, so no child index is stored at all.
// Then votes, summed probabilities or summed values, as the TreeProgram says. No recursion in
// the generated C, nor here: trees are walked with explicit stacks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "emit.hpp"
#include "mcuport/error.hpp"
#include "mcuport/text.hpp"

namespace mcuport::codegen {

namespace {

// The trees of a program in pre-order (left subtree first), the order of both layouts.
struct PreOrder {
  std::vector<uint32_t> split;        // program split ids, tree by tree (kNoSplit: see below)
  std::vector<uint32_t> tree_first;   // per tree, its first entry of `split`
  std::vector<uint32_t> n_left;       // per entry of `split`: leaves of the left subtree
  std::vector<bool> right_leaf;       // per entry of `split`: the right child is a leaf
  std::vector<uint32_t> leaf;         // leaf references (program leaf ids), tree by tree
};

// A tree that is a single leaf is laid out as a split whose two children are that leaf, so that
// every tree has a split to start from and the walk needs no test for it.
constexpr uint32_t kNoSplit = 0xffffffffu;

PreOrder pre_order(const TreeProgram& program) {
  const uint32_t n_splits = program.n_splits();
  PreOrder order;
  std::vector<uint32_t> position(n_splits, 0);
  for (uint32_t root : program.roots) {
    const auto first = static_cast<uint32_t>(order.split.size());
    order.tree_first.push_back(first);
    if (root >= n_splits) {
      order.split.push_back(kNoSplit);
      order.n_left.push_back(1);
      order.right_leaf.push_back(true);
      order.leaf.push_back(root - n_splits);
      order.leaf.push_back(root - n_splits);
      continue;
    }
    std::vector<uint32_t> stack{root};
    while (!stack.empty()) {
      const uint32_t ref = stack.back();
      stack.pop_back();
      if (ref >= n_splits) {
        order.leaf.push_back(ref - n_splits);
        continue;
      }
      position[ref] = static_cast<uint32_t>(order.split.size());
      order.split.push_back(ref);
      stack.push_back(program.right[ref]);
      stack.push_back(program.left[ref]);
    }
    // Leaves per subtree, children before parents (reverse pre-order).
    const auto end = static_cast<uint32_t>(order.split.size());
    std::vector<uint32_t> leaves(end - first, 0);
    const auto count = [&](uint32_t ref) -> uint32_t {
      return ref >= n_splits ? 1u : leaves[position[ref] - first];
    };
    order.n_left.resize(end, 0);
    order.right_leaf.resize(end, false);
    for (uint32_t i = end; i-- > first;) {
      const uint32_t s = order.split[i];
      order.n_left[i] = count(program.left[s]);
      order.right_leaf[i] = program.right[s] >= n_splits;
      leaves[i - first] = order.n_left[i] + count(program.right[s]);
    }
  }
  return order;
}

uint32_t bits_for(uint64_t max_value) {
  uint32_t bits = 0;
  while (bits < 64 && (max_value >> bits) != 0) ++bits;
  return bits;
}

std::string hex_mask(uint32_t bits) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%llXu",
                static_cast<unsigned long long>(bits >= 64 ? ~0ull : (1ull << bits) - 1));
  return text;
}

// How leaves are referred to in the emitted C. For a forest with probability leaves, a pure leaf
// (probability exactly 1 for one class) is referred to by its class, 0..n_classes-1, and adds
// one to that class's sum with no table; the other (mixed) leaves follow, from n_classes on,
// as rows of n_classes values or, when smaller, as runs of their nonzero entries (adding only
// those gives the same sums: x + 0 is x). Other leaf kinds are referred to by their program id.
struct LeafCoding {
  std::vector<uint32_t> id;      // program leaf id -> emitted reference
  uint64_t n_refs = 0;           // emitted references are below this
  std::vector<uint32_t> mixed;   // program ids of the mixed leaves with table rows, in order
  std::vector<uint32_t> inlined;  // program ids of the mixed leaves fast code adds inline
  bool sparse = false;
  std::vector<uint64_t> start;   // sparse: runs of entries per mixed leaf, and the end
  std::vector<uint32_t> klass;
  std::vector<uint32_t> code;    // fixed
  std::vector<double> value;     // float
};

// `inline_entries`: fast code with integer sums adds a mixed leaf with at most this many nonzero
// entries where it is reached; such leaves get the references after the tabled ones (coding.
// inlined) and no table rows.
LeafCoding leaf_coding(const TreeProgram& program, TreeLayout layout, uint32_t inline_entries) {
  LeafCoding coding;
  const std::size_t n_leaves = program.n_leaves;
  if (program.leaf_kind != LeafKind::Proba) {
    for (uint32_t i = 0; i < n_leaves; ++i) coding.id.push_back(i);
    coding.n_refs = n_leaves;
    return coding;
  }
  const bool fixed = program.numeric == Numeric::Fixed;
  const std::size_t n_classes = program.n_classes;
  const auto proba_nonzero = [&](std::size_t leaf, std::size_t c) {
    const std::size_t i = leaf * n_classes + c;
    return fixed ? program.leaf_proba_code[i] != 0 : program.leaf_proba_float[i] != 0;
  };
  const auto proba_one = [&](std::size_t leaf, std::size_t c) {
    const std::size_t i = leaf * n_classes + c;
    return fixed ? program.leaf_proba_code[i] == program.proba_code_one : program.leaf_proba_float[i] == 1.0;
  };
  coding.id.resize(n_leaves);
  for (uint32_t leaf = 0; leaf < n_leaves; ++leaf) {
    std::size_t nonzero = 0;
    std::size_t last = 0;
    for (std::size_t c = 0; c < n_classes; ++c) {
      if (proba_nonzero(leaf, c)) {
        ++nonzero;
        last = c;
      }
    }
    if (nonzero == 1 && proba_one(leaf, last)) {
      coding.id[leaf] = static_cast<uint32_t>(last);  // leaves are distinct: one per class
    } else if (inline_entries > 0 && nonzero <= inline_entries) {
      coding.inlined.push_back(leaf);
    } else {
      coding.id[leaf] = static_cast<uint32_t>(n_classes + coding.mixed.size());
      coding.mixed.push_back(leaf);
    }
  }
  for (std::size_t i = 0; i < coding.inlined.size(); ++i) {
    coding.id[coding.inlined[i]] = static_cast<uint32_t>(n_classes + coding.mixed.size() + i);
  }
  coding.n_refs = n_classes + coding.mixed.size() + coding.inlined.size();
  for (uint32_t leaf : coding.mixed) {
    coding.start.push_back(coding.klass.size());
    const auto add_entry = [&](std::size_t c) {
      coding.klass.push_back(static_cast<uint32_t>(c));
      if (fixed) {
        coding.code.push_back(program.leaf_proba_code[leaf * n_classes + c]);
      } else {
        coding.value.push_back(program.leaf_proba_float[leaf * n_classes + c]);
      }
    };
    for (std::size_t c = 0; c < n_classes; ++c) {
      if (proba_nonzero(leaf, c)) add_entry(c);
    }
    // Every run has an entry: a leaf whose probabilities are all 0 (weights that round to 0,
    // or all zero) keeps class 0's, which adds nothing, as its row would.
    if (coding.klass.size() == coding.start.back()) add_entry(0);
  }
  coding.start.push_back(coding.klass.size());
  const uint64_t value_bytes = fixed ? program.proba_bits / 8 : 8;
  const uint64_t dense = coding.mixed.size() * n_classes * value_bytes;
  const uint64_t entries = coding.klass.size();
  const uint64_t sparse_bytes = coding.start.size() * unsigned_type_for(entries).bytes +
                                entries * (unsigned_type_for(n_classes - 1).bytes + value_bytes);
  // Compact code takes the smaller; fast code keeps dense rows for a few classes, where adding
  // every class costs no more than finding the nonzero ones.
  coding.sparse = sparse_bytes < dense && (layout == TreeLayout::Compact || n_classes > 4);
  return coding;
}

// Where fast tree code reads input f: x[f], a local x<f> (see fast_tree_blocks) or xs[f], an
// int32 copy of the inputs on the stack (see Target::stack_input_words).
enum class InputRead { Array, Registers, StackWords };

// The condition sending x to the right child of a split, as C.
std::string threshold_condition_right(const EmitContext& context, const TreeProgram& program,
                                      uint32_t split, InputRead read = InputRead::Array) {
  const std::string f = std::to_string(program.feature[split]);
  const std::string x = read == InputRead::Registers    ? "x" + f
                        : read == InputRead::StackWords ? "xs[" + f + "]"
                                                        : "x[" + f + "]";
  if (program.numeric == Numeric::Fixed) {
    return x + " > " + integer_literals(std::vector<int32_t>{program.threshold_code[split]})[0];
  }
  (void)context;
  // Both send x > t right and x <= t left; they differ only for NaN, which the first sends
  // left and the second right, as scikit-learn's missing_go_to_left says (the compact walk
  // reads the same choice from the split record).
  const std::string t = float_literal(program.threshold_float[split]);
  if (program.nan_left[split] != 0) return x + " > " + t;
  return "!(" + x + " <= " + t + ")";
}

// Fast layout: tree t as straight-line compares and jumps in pre-order, labels prefixed with
// `label`; `leaf(ref)` is the C statement of a leaf (it must leave the tree: a return or a goto).
std::string fast_tree_code(const EmitContext& context, const TreeProgram& program, std::size_t t,
                           const std::vector<uint32_t>& leaf_id, const std::string& label,
                           const std::function<std::string(uint32_t)>& leaf,
                           InputRead read = InputRead::Array) {
  const uint32_t n_splits = program.n_splits();
  std::string out;
  struct Item {
    uint32_t ref;
    bool label;
  };
  std::vector<Item> stack{{program.roots[t], false}};
  while (!stack.empty()) {
    const Item item = stack.back();
    stack.pop_back();
    if (item.label) out += label + std::to_string(item.ref) + ":\n";
    if (item.ref >= n_splits) {
      out += "    " + leaf(leaf_id[item.ref - n_splits]) + "\n";
      continue;
    }
    const uint32_t s = item.ref;
    const uint32_t right = program.right[s];
    out += "    if (" + threshold_condition_right(context, program, s, read) + ") ";
    // The if's body is always braced: gcc's -Wmisleading-indentation (in -Wall) examines every
    // unbraced body, and on the 200-tree digits forest that took 13 of its 22 s of compile.
    if (right >= n_splits) {
      const std::string body = leaf(leaf_id[right - n_splits]);
      out += (body.rfind("{", 0) == 0 ? body : "{ " + body + " }") + "\n";
    } else {
      out += "{ goto " + label + std::to_string(right) + "; }\n";
      stack.push_back({right, true});
    }
    stack.push_back({program.left[s], false});
  }
  return out;
}

// Beyond this many splits, fast code is slow to compile (the 200-tree digits forest, 32,000
// splits: 12.6 s for Cortex-M4 at -Os), so the default is compact.
constexpr uint32_t kFastMaxSplits = 16384;

// Every tree, one after another in one function body: tree t's leaves do `leaf(ref, grouped)`
// and jump to t<t>_end. Between two trees a compiler barrier keeps compilers from copying a tree
// into every leaf of the tree before it (they would, to reuse what the earlier compares proved:
// up to three times the flash). A large forest is cut into groups of trees of at most
// kFastSplitsPerFunction splits, each a function of its own: compile time grows faster than
// linearly with a function's size. The 200-tree digits forest (32,000 splits), Cortex-M4 -Os:
// 47 s in one function; 13.0, 11.3, 10.2 and 9.4 s in groups of 2,048, 1,024, 512 and 256
// splits (on the loaded 2-core machine). Each group costs a call (about 8 instructions), so
// forests the default layout makes fast (at most kFastMaxSplits) keep groups of 2,048 (the
// 50-tree depth-8 digits forest: 3 calls, not 11, 64 instructions a prediction fewer) and
// larger ones, fast only when asked, groups of 512 (smaller groups are about one tree of that
// forest and cost more calls than they save compile time).
constexpr uint32_t kFastSplitsPerFunction = 2048;
constexpr uint32_t kFastSplitsPerFunctionLarge = 512;
// In fixed mode, a function whose trees read at most this many features loads them once into
// locals (int_fast16_t: a register on every core) and the barrier is {{P}}_KEEP(x<f>) on each,
// which makes compilers forget what the compares proved but keeps the values in registers. On
// the 10-tree ceiling-fan forest: 9% fewer instructions on Cortex-M4F, 18% on M0 and 16% fewer
// AVR cycles than reloading them after a {{P}}_NEXT_TREE() memory barrier. Six inputs, a sum
// and a constant fit Cortex-M0's low registers.
constexpr std::size_t kRegisterInputs = 6;
// Where the target asks for it (Target::stack_input_words, Cortex-M0), a function reading more
// inputs first copies them into int32 words on its stack, when it has at least this many splits
// per input copied: a Thumb-1 split then loads its input with one 2-byte SP-relative ldr instead
// of an offset built in a register and an ldrsh (4 to 8 bytes), at the price of the copy.
constexpr std::size_t kStackWordSplitsPerInput = 8;
// Register sums (Target::register_sums) that start at zero in the function that walks the
// trees (a forest not cut into groups): knowing the zeros, compilers make every leaf of the
// first tree set every sum to a constant, one move per sum and leaf, at the join after that
// tree. Where that would be at least this many moves (the first tree's leaves times the
// classes), each zero goes through {{P}}_OPAQUE, an empty asm that hides it, and a leaf adds to
// the few sums it changes (one or two for most). 10-tree forests on Cortex-M4F, fixed, -Os:
// digits depth 8 (105 leaves x 10 classes) 18,892 -> 16,880 B and 310 -> 314 instructions a
// prediction; unlimited depth (1,630) 30,040 -> 27,272 B, 370 -> 375. Smaller first trees gain
// little flash for more instructions (the sums' zeros are written before the walk and some
// spill): depth 5 (320) 8,464 -> 8,284 B, 276 -> 283; depth 4 (160) 5,424 -> 5,376 B, 266 ->
// 277; iris (15) 772 -> 776 B, 110 -> 113.
constexpr uint64_t kOpaqueSumsMinCopies = 512;

struct FastWalk {
  std::string functions;   // the group functions, when there is more than one group
  std::string walk;        // the statements of the calling body
  bool next_tree = false;  // uses {{P}}_NEXT_TREE()
  bool keep = false;       // uses {{P}}_KEEP(v)
  std::string locals;      // declarations the walk needs first in the calling body
};

// Calls split(ref) for every split and leaf(ref) for every leaf reference of tree t, in the
// same order every time (no particular one).
template <class Split, class Leaf>
void for_each_node_of_tree(const TreeProgram& program, std::size_t t, Split&& split,
                           Leaf&& leaf) {
  std::vector<uint32_t> stack{program.roots[t]};
  while (!stack.empty()) {
    const uint32_t ref = stack.back();
    stack.pop_back();
    if (ref >= program.n_splits()) {
      leaf(ref);
      continue;
    }
    split(ref);
    stack.push_back(program.left[ref]);
    stack.push_back(program.right[ref]);
  }
}

// `group_param`: the accumulator parameter of a group function ("uint32_t acc[]");
// `group_arg`: what the body passes for it ("acc" or "&acc"); `leaf(ref, grouped)`: a leaf's
// statement in the body (grouped false) or in a group function (true). `group_enter` and
// `group_leave`: statements a group function starts and ends with (register sums).
FastWalk fast_tree_blocks(const EmitContext& context, const TreeProgram& program,
                          const std::vector<uint32_t>& leaf_id, const std::string& group_param,
                          const std::string& group_arg,
                          const std::function<std::string(uint32_t, bool)>& leaf,
                          const std::string& group_enter = "",
                          const std::string& group_leave = "") {
  // Splits per tree, then the groups.
  std::vector<uint32_t> tree_splits(program.roots.size(), 0);
  for (std::size_t t = 0; t < program.roots.size(); ++t) {
    for_each_node_of_tree(program, t, [&](uint32_t) { ++tree_splits[t]; }, [](uint32_t) {});
  }
  const uint32_t group_splits = program.n_splits() > kFastMaxSplits ? kFastSplitsPerFunctionLarge
                                                                    : kFastSplitsPerFunction;
  std::vector<std::size_t> group_first{0};
  uint32_t in_group = 0;
  for (std::size_t t = 0; t < tree_splits.size(); ++t) {
    if (in_group > 0 && in_group + tree_splits[t] > group_splits) {
      group_first.push_back(t);
      in_group = 0;
    }
    in_group += tree_splits[t];
  }
  group_first.push_back(tree_splits.size());
  const bool grouped = group_first.size() > 2;

  FastWalk out;
  for (std::size_t g = 0; g + 1 < group_first.size(); ++g) {
    std::string body;
    uint32_t splits = 0;
    std::vector<bool> used(static_cast<std::size_t>(program.n_features), false);
    for (std::size_t t = group_first[g]; t < group_first[g + 1]; ++t) {
      splits += tree_splits[t];
      for_each_node_of_tree(
          program, t, [&](uint32_t ref) { used[program.feature[ref]] = true; }, [](uint32_t) {});
    }
    std::vector<std::size_t> features;
    for (std::size_t f = 0; f < used.size(); ++f) {
      if (used[f]) features.push_back(f);
    }
    const bool registers = program.numeric == Numeric::Fixed && !features.empty() &&
                           features.size() <= kRegisterInputs;
    const std::size_t n_read = features.empty() ? 0 : features.back() + 1;
    const bool stack_words = program.numeric == Numeric::Fixed && !registers && n_read > 0 &&
                             n_read <= context.target.stack_input_words &&
                             splits >= kStackWordSplitsPerInput * n_read;
    const InputRead read = registers     ? InputRead::Registers
                           : stack_words ? InputRead::StackWords
                                         : InputRead::Array;
    std::string barrier = context.macro + "_NEXT_TREE();";
    std::string locals;
    if (stack_words) {
      const std::string n = std::to_string(n_read);
      locals += "    int32_t xs[" + n + "];\n" +
                widen_codes("x", "xs", static_cast<uint32_t>(n_read), static_cast<uint32_t>(n_read),
                            "    ");
    }
    if (registers) {
      barrier.clear();
      for (std::size_t f : features) {
        const std::string name = "x" + std::to_string(f);
        locals += "    int_fast16_t " + name + " = x[" + std::to_string(f) + "];\n";
        barrier += (barrier.empty() ? "" : " ") + context.macro + "_KEEP(" + name + ");";
      }
      out.keep = true;
    } else {
      out.next_tree = true;
    }
    if (splits == 0) body += "    (void)x;\n";  // every tree here is a single leaf
    for (std::size_t t = group_first[g]; t < group_first[g + 1]; ++t) {
      const std::string tree = "t" + std::to_string(t);
      const std::string end = tree + "_end";
      // In a large forest, leaves of one tree that do the same (a vote for one class, one
      // deduplicated leaf) jump to one block of it, so that the compiler does not have to find
      // the copies itself: the 200-tree digits forest compiles for Cortex-M4 in 25 to 30% less
      // time (8.8 -> 6.1 s fixed, 9.6 -> 7.3 s float), in slightly less flash (compilers merged
      // most copies already).
      std::map<std::string, std::string> shared;  // statement -> its block's label
      std::vector<std::string> shared_order;
      if (program.n_splits() > kFastMaxSplits) {
        std::map<std::string, uint32_t> uses;
        for_each_node_of_tree(program, t, [](uint32_t) {}, [&](uint32_t ref) {
          const std::string statement = leaf(leaf_id[ref - program.n_splits()], grouped);
          if (!statement.empty() && ++uses[statement] == 2) {
            shared[statement] = tree + "_l" + std::to_string(shared_order.size());
            shared_order.push_back(statement);
          }
        });
      }
      body += "    /* tree " + std::to_string(t) + " */\n";
      body += fast_tree_code(
          context, program, t, leaf_id, tree + "_n",
          [&](uint32_t ref) {
            const std::string statement = leaf(ref, grouped);
            const auto found = shared.find(statement);
            if (found != shared.end()) return "{ goto " + found->second + "; }";
            return "{ " + statement + " goto " + end + "; }";
          },
          read);
      for (const std::string& statement : shared_order) {
        body += shared[statement] + ":\n    " + statement + "\n    goto " + end + ";\n";
      }
      body += end + ":\n    " + barrier + "\n";
    }
    if (!grouped) {
      out.locals = locals;
      out.walk = body;
      break;
    }
    const std::string name = context.prefix + "_trees_" + std::to_string(g);
    out.functions += "/* Trees " + std::to_string(group_first[g]) + " to " +
                     std::to_string(group_first[g + 1] - 1) + ". */\nstatic " + context.macro +
                     "_NOINLINE void " + name + "(const " + context.input_type() + " x[], " +
                     group_param + ") {\n" + group_enter + locals + body + group_leave +
                     "}\n\n";
    out.walk += "    " + name + "(x, " + group_arg + ");\n";
  }
  return out;
}

// Compact layout: a field of `bits` bits per element, stored in aligned parts so that a read is
// one or two plain loads: the low part in an array of 8, 16 or 32 bits, the rest (when the width
// is not one of those) in a second array of 4 (two per byte), 8, 16 or 32 bits, whichever takes
// the fewest table and code bytes (a large column wastes at most half a byte an element). No
// read needs a variable shift (AVR has no barrel shifter).
struct ColumnParts {
  uint32_t low;   // 0 (4-bit elements: nibbles only), 8, 16 or 32
  uint32_t high;  // 0, 4, 8, 16 or 32
};

uint64_t parts_bytes(uint64_t n, ColumnParts parts) {
  return n * parts.low / 8 + (parts.high == 4 ? (n + 1) / 2 : n * parts.high / 8);
}

// What a target asks of a column's parts (column_parts). `narrow` (int of 16 bits, AVR): no
// 32-bit low part, but two 16-bit parts (the same bytes; a field is then read from them in
// arithmetic as wide as the field, where avr-gcc -Os shifts a 32-bit value a bit at a time in a
// loop). `low16`: a low part of exactly 16 bits (a record whose first 16 bits are one field,
// Head::threshold_first; set only with narrow).
struct PartsRule {
  bool narrow = false;
  bool low16 = false;
};

// What a column's reads cost in code, in bytes of flash (estimated): a second part to read and
// combine, and arithmetic wider than 16 bits (AVR does it a byte at a time; a record of two
// 16-bit parts, `low16`, is read in 16-bit arithmetic). On a small model that outweighs the bytes
// a tighter column saves.
uint64_t parts_code_bytes(ColumnParts parts, bool low16 = false) {
  return (parts.high != 0 ? 48 : 0) +
         ((low16 ? parts.high : parts.low + parts.high) > 16 ? 32 : 0);
}

// The parts of a column of n elements of `bits` bits: the least table and code bytes, as `rule`
// allows (a column wider than 48 bits takes the parts of any target).
ColumnParts column_parts(uint32_t bits, uint64_t n, PartsRule rule = {}) {
  static const ColumnParts kParts[] = {{0, 4},  {8, 0},  {8, 4},  {16, 0},  {16, 4},
                                       {16, 8}, {16, 16}, {16, 32}, {32, 0},  {32, 4},
                                       {32, 8}, {32, 16}, {32, 32}};
  bits = std::max<uint32_t>(bits, 1);
  const ColumnParts* best = nullptr;
  for (const ColumnParts& parts : kParts) {
    if (parts.low + parts.high < bits || (rule.low16 && parts.low != 16)) continue;
    // {16, 16} and {16, 32} take the bytes of a {32, ...}: only where a 32-bit low part is not
    // wanted.
    if (rule.narrow ? parts.low == 32 : parts.low == 16 && parts.high >= 16) continue;
    if (best == nullptr || parts_bytes(n, parts) + parts_code_bytes(parts, rule.low16) <
                               parts_bytes(n, *best) + parts_code_bytes(*best, rule.low16)) {
      best = &parts;
    }
  }
  if (best == nullptr && rule.narrow) return column_parts(bits, n);  // wider than 48 bits
  if (best == nullptr) internal_error(__FILE__, __LINE__, "a packed field wider than 64 bits");
  return *best;
}

// Table and code bytes of a column of n elements of `bits` bits (column_parts).
uint64_t column_cost(uint64_t n, uint32_t bits, PartsRule rule = {}) {
  const ColumnParts parts = column_parts(bits, n, rule);
  return parts_bytes(n, parts) + parts_code_bytes(parts, rule.low16 && parts.low == 16);
}

// The C type a read of up to `bits` bits is done in: 16-bit arithmetic where it suffices (AVR
// does 32-bit arithmetic one byte at a time).
std::string read_type(uint32_t bits) {
  return bits <= 16 ? "uint_fast16_t" : bits <= 32 ? "uint32_t" : "uint64_t";
}

// The C type of a local holding one part of a record: uint_fast8_t for a byte (AVR then shifts
// and masks it in 8-bit arithmetic: `>> 4` is a nibble swap, where in 16 bits it is a loop of
// four; on a 32-bit core uint_fast8_t is a 32-bit unsigned int).
std::string part_type(uint32_t bits) { return bits <= 8 ? "uint_fast8_t" : read_type(bits); }

// A column's tables, added by add_column, and how C reads them.
struct Column {
  ColumnParts parts;
  std::string read_t;    // the type of a whole element (read_type)
  std::string function;  // `static inline read_t <name>_at(idx_t i)`: element i
  std::string name;
  // The C expressions of the low and the high part of element `index`, as `type`.
  std::string low(const std::string& index, const std::string& type) const {
    return "(" + type + ")" + (parts.high == 0 ? name : name + "_low") + "[" + index + "]";
  }
  std::string high(const std::string& index, const std::string& type) const {
    const std::string table = name + (parts.low == 0 ? "" : "_high");
    if (parts.high == 4) {
      // A select, not a shift by (index & 1) * 4: AVR has no barrel shifter.
      return "((" + index + " & 1u) != 0u ? (" + type + ")(" + table + "[" + index +
             " >> 1] >> 4) : (" + type + ")(" + table + "[" + index + " >> 1] & 15u))";
    }
    return "(" + type + ")" + table + "[" + index + "]";
  }
};

// Adds the tables of a column of `bits`-bit elements (column_parts) to `code`.
Column add_column(FamilyCode& code, const std::string& name, const std::vector<uint64_t>& values,
                  uint32_t bits, const std::string& idx_t, const std::string& what,
                  PartsRule rule = {}) {
  Column column;
  column.parts = column_parts(bits, values.size(), rule);
  column.read_t = read_type(column.parts.low + column.parts.high);
  column.name = name;
  const ColumnParts parts = column.parts;
  const auto part_type = [](uint32_t b) -> CType {
    return b == 8 ? CType{"uint8_t", 1} : b == 16 ? CType{"uint16_t", 2} : CType{"uint32_t", 4};
  };
  const auto nibbles = [](const std::vector<uint64_t>& v) {
    std::vector<uint64_t> packed((v.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < v.size(); ++i) packed[i / 2] |= (v[i] & 15u) << (4 * (i % 2));
    return packed;
  };
  std::string read;
  if (parts.low == 0) {
    code.tables.add("uint8_t", 1, name, integer_literals(nibbles(values)),
                    what + ": 4 bits each, two per byte, low nibble first");
    read = column.high("i", column.read_t);
  } else {
    std::vector<uint64_t> low;
    std::vector<uint64_t> high;
    const uint64_t low_mask = parts.low == 32 ? 0xffffffffull : (1ull << parts.low) - 1;
    for (uint64_t v : values) {
      low.push_back(v & low_mask);
      high.push_back(v >> parts.low);
    }
    const CType low_type = part_type(parts.low);
    const std::string low_name = parts.high == 0 ? name : name + "_low";
    code.tables.add(low_type.name, low_type.bytes, low_name, integer_literals(low),
                    parts.high == 0 ? what : what + ": the low " + std::to_string(parts.low) +
                                                 " bits");
    read = column.low("i", column.read_t);
    if (parts.high == 4) {
      code.tables.add("uint8_t", 1, name + "_high", integer_literals(nibbles(high)),
                      "the bits above them, two elements per byte, low nibble first");
    } else if (parts.high != 0) {
      const CType high_type = part_type(parts.high);
      code.tables.add(high_type.name, high_type.bytes, name + "_high", integer_literals(high),
                      "the bits above them");
    }
    if (parts.high != 0) {
      read += " | " + column.high("i", column.read_t) + " << " + std::to_string(parts.low);
    }
  }
  column.function = "static inline " + column.read_t + " " + name + "_at(" + idx_t +
                    " i) {\n    return (" + column.read_t + ")(" + read + ");\n}\n\n";
  return column;
}

// How a walk reads the fields of a record of `record_bits` bits stored in `parts`: the low part
// in the local `low`, the high part in `high` (a local, or the read itself where the walk reads
// it only when a field needs it), and each field from the part it lies in, or from both parts
// when it straddles them, in arithmetic as wide as the field. The whole record is never put
// together: on AVR a 32-bit shift by a constant other than a multiple of 8 is a loop, a bit a
// turn, at -Os.
struct RecordFields {
  ColumnParts parts;
  uint32_t record_bits = 0;
  std::string low = "split";
  std::string high = "high";
  // The record's top bit is tested by a shift (`(high >> 6) != 0u`: one instruction on a 32-bit
  // core, where a mask above 255 is a constant to load on Cortex-M0) rather than by a mask,
  // which AVR tests with one instruction (a shift there is one a bit).
  bool shift_top_bit = true;

  bool in_high(uint32_t shift, uint32_t bits) const {
    return bits != 0 && shift + bits > parts.low;
  }
  // The field of `bits` bits from bit `shift` on, an unsigned value.
  std::string field(uint32_t shift, uint32_t bits) const {
    if (bits == 0) return "0u";
    const uint32_t l = parts.low;
    const bool top = shift + bits >= record_bits;  // nothing above it: no mask
    const auto part = [&](const std::string& name, uint32_t s, uint32_t b, bool to_top) {
      std::string e = s == 0 ? name : "(" + name + " >> " + std::to_string(s) + ")";
      return to_top ? e : "(" + e + " & " + hex_mask(b) + ")";
    };
    if (shift + bits <= l) return part(low, shift, bits, top || shift + bits == l);
    if (shift >= l) return part(high, shift - l, bits, top);
    const std::string t = read_type(bits);
    return "((" + t + ")" + part(low, shift, l - shift, true) + " | (" + t + ")" +
           part(high, 0, shift + bits - l, top) + " << " + std::to_string(l - shift) + ")";
  }
  // The field without the parentheses around it: an index, or an operand of a cast.
  std::string bare(uint32_t shift, uint32_t bits) const { return strip_parentheses(field(shift, bits)); }
  // A test that bit `shift` is set.
  std::string bit_set(uint32_t shift) const {
    if (shift_top_bit && shift + 1 == record_bits) {
      const uint32_t k = shift < parts.low ? shift : shift - parts.low;
      const std::string& part = shift < parts.low ? low : high;
      return k == 0 ? part + " != 0u" : "(" + part + " >> " + std::to_string(k) + ") != 0u";
    }
    return all_set(shift, 1);
  }
  // A test that the `bits` bits from `shift` on are all set.
  std::string all_set(uint32_t shift, uint32_t bits) const {
    if (in_high(shift, bits) && shift < parts.low) {
      return field(shift, bits) + " == " + hex_mask(bits);  // straddles the parts
    }
    const bool in_low = shift < parts.low;
    const std::string mask =
        std::to_string(((1ull << bits) - 1) << (in_low ? shift : shift - parts.low)) + "u";
    return bits == 1 ? "(" + (in_low ? low : high) + " & " + mask + ") != 0u"
                     : "(" + (in_low ? low : high) + " & " + mask + ") == " + mask;
  }
  static std::string strip_parentheses(const std::string& e) {
    if (e.size() < 2 || e.front() != '(' || e.back() != ')') return e;
    int depth = 0;
    for (std::size_t i = 0; i + 1 < e.size(); ++i) {
      depth += e[i] == '(' ? 1 : e[i] == ')' ? -1 : 0;
      if (depth == 0) return e;  // the first parenthesis closes before the end
    }
    return e.substr(1, e.size() - 2);
  }
};

// Compact layout: the thresholds of the split records. A split holds its threshold's rank among
// the distinct values (a table, ascending), or in fixed mode, when that takes fewer bytes, the
// code itself less the smallest code (models whose features have scales of their own share few
// codes). `record_bytes(bits)`: the bytes of the records with a threshold field of `bits` bits.
// The distinct thresholds of the records' splits, ascending (a zero when there is none).
template <typename T>
std::vector<T> distinct_thresholds(const PreOrder& order, const std::vector<T>& threshold) {
  std::vector<T> distinct;
  for (uint32_t s : order.split) {
    if (s != kNoSplit) distinct.push_back(threshold[s]);
  }
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.empty()) distinct.push_back(T{0});
  return distinct;
}

// The distinct thresholds of a program's records (distinct_thresholds), found once for both
// compact formats.
struct DistinctThresholds {
  bool fixed = true;
  std::vector<int32_t> codes;  // fixed mode
  std::vector<float> floats;   // float mode
};

DistinctThresholds distinct_thresholds_of(const TreeProgram& program, const PreOrder& order) {
  DistinctThresholds distinct;
  distinct.fixed = program.numeric == Numeric::Fixed;
  if (distinct.fixed) {
    distinct.codes = distinct_thresholds(order, program.threshold_code);
  } else {
    distinct.floats = distinct_thresholds(order, program.threshold_float);
  }
  return distinct;
}

// How the records hold a threshold: its rank among the distinct ones, or (fixed mode, ranked
// false) the code less the smallest code, in `bits` bits.
struct ThresholdField {
  bool ranked = true;
  uint32_t bits = 0;
};

// The threshold field of the fewer bytes: `record_bytes(field)` is the bytes of the records with
// that threshold field.
ThresholdField threshold_field(const DistinctThresholds& distinct,
                               const std::function<uint64_t(ThresholdField)>& record_bytes) {
  if (!distinct.fixed) return {true, bits_for(distinct.floats.size() - 1)};
  const uint32_t rank_bits = bits_for(distinct.codes.size() - 1);
  const uint32_t offset_bits = bits_for(static_cast<uint64_t>(
      static_cast<int64_t>(distinct.codes.back()) - distinct.codes.front()));
  const bool ranked = record_bytes({true, rank_bits}) + 2 * distinct.codes.size() <=
                      record_bytes({false, offset_bits});
  return {ranked, ranked ? rank_bits : offset_bits};
}

// The bytes of the table compact_thresholds adds for `field`.
uint64_t threshold_table_bytes(const DistinctThresholds& distinct, ThresholdField field) {
  if (!distinct.fixed) return 4 * distinct.floats.size();
  return field.ranked ? 2 * distinct.codes.size() : 0;
}

struct CompactThresholds {
  std::vector<uint64_t> field;  // per record
  uint32_t bits = 0;
  bool ranked = true;
  bool fixed = true;
  std::string table;  // ranked: the table of the distinct thresholds
  int32_t base = 0;   // fixed, not ranked: the code of field 0
  // The C threshold of a record whose threshold field is `field`, for the comparison
  // `x[feature] <= threshold` (compact_comparison).
  std::string expr(const std::string& f) const {
    if (ranked) return table + "[" + RecordFields::strip_parentheses(f) + "]";
    // The code in int arithmetic (16 bits on AVR) when the field fits an int16: the sum is a
    // code, so it does too. (A 16-bit field is compared unsigned: biased_compare.)
    const std::string int_t = bits <= 15 ? "int" : "int32_t";
    return "(" + int_t + ")(" + RecordFields::strip_parentheses(f) + ")" +
           (base == INT16_MIN ? " + (" + int_t + ")INT16_MIN"
            : base < 0        ? " - " + std::to_string(-static_cast<int64_t>(base))
                              : " + " + std::to_string(base));
  }
  // A 16-bit field is the code + 32768, compared with the input's code + 32768 (its sign bit
  // flipped) in unsigned 16-bit arithmetic: no 32-bit compare on AVR.
  bool biased_compare() const { return fixed && !ranked && bits == 16; }
};

// The records' threshold fields as `field` says, and their table (threshold_table_bytes).
CompactThresholds compact_thresholds(const EmitContext& context, const TreeProgram& program,
                                     const PreOrder& order, const DistinctThresholds& distinct,
                                     ThresholdField field, FamilyCode& code) {
  const std::string& p = context.prefix;
  const auto n_entries = static_cast<uint32_t>(order.split.size());
  CompactThresholds out;
  out.field.assign(n_entries, 0);
  out.ranked = field.ranked;
  out.bits = field.bits;
  out.fixed = distinct.fixed;
  out.table = p + "_threshold";
  if (distinct.fixed) {
    const std::vector<int32_t>& codes = distinct.codes;
    const bool ranked = field.ranked;
    out.base = out.biased_compare() ? INT16_MIN : codes.front();
    for (uint32_t i = 0; i < n_entries; ++i) {
      const int32_t c = order.split[i] == kNoSplit ? codes.front()
                                                   : program.threshold_code[order.split[i]];
      out.field[i] =
          ranked ? static_cast<uint64_t>(std::lower_bound(codes.begin(), codes.end(), c) -
                                         codes.begin())
                 : static_cast<uint64_t>(static_cast<int64_t>(c) - out.base);
    }
    if (ranked) {
      code.tables.add("int16_t", 2, out.table, integer_literals(codes),
                      "the distinct threshold codes, ascending: go left when xq[feature] <= "
                      "code (decision-exact)");
    }
    return out;
  }
  const std::vector<float>& floats = distinct.floats;
  for (uint32_t i = 0; i < n_entries; ++i) {
    if (order.split[i] == kNoSplit) continue;
    out.field[i] = static_cast<uint64_t>(
        std::lower_bound(floats.begin(), floats.end(), program.threshold_float[order.split[i]]) -
        floats.begin());
  }
  code.tables.add("float", 4, out.table, float_literals(floats),
                  "the distinct thresholds, ascending: go left when x[feature] <= this float32 "
                  "(decision-exact)");
  return out;
}

// Float mode: some split sends NaN left (scikit-learn's missing_go_to_left), so the records
// have a NaN-left bit.
bool any_nan_left(const TreeProgram& program, const PreOrder& order) {
  if (program.numeric == Numeric::Fixed) return false;
  for (uint32_t s : order.split) {
    if (s != kNoSplit && program.nan_left[s] != 0) return true;
  }
  return false;
}

// "bits 3-9", "bit 4" or "no bits", for the comment of a record.
std::string bit_range(uint32_t low, uint32_t bits) {
  return bits == 0 ? std::string("no bits") :
         bits == 1 ? "bit " + std::to_string(low) :
         "bits " + std::to_string(low) + "-" + std::to_string(low + bits - 1);
}

// Where a record's feature and threshold fields lie: the feature in the lowest bits and the
// threshold above it, or (threshold_first: a threshold field of 16 bits, compared unsigned) the
// threshold in bits 0-15, so that the record's low 16-bit part is its threshold as is, and the
// feature above it. The other fields follow them either way.
struct Head {
  uint32_t feature_bits = 0;
  uint32_t threshold_bits = 0;
  bool threshold_first = false;
  uint32_t feature_shift() const { return threshold_first ? threshold_bits : 0; }
  uint32_t threshold_shift() const { return threshold_first ? 0 : feature_bits; }
};

// A threshold field of 16 bits goes first (Head): where the records' low part is 16 bits wide,
// that part is the threshold (column_parts' `low16`).
bool threshold_first(const DistinctThresholds& distinct, ThresholdField field) {
  return distinct.fixed && !field.ranked && field.bits == 16;
}

// Where int is 16 bits (AVR), 32-bit arithmetic is done a byte at a time and a shift by a
// constant that is not a multiple of 8 is a loop: there no table has a 32-bit low part (two
// 16-bit parts rather than one 32-bit one, the same bytes: PartsRule::narrow), and a record whose
// threshold goes first has a low part of 16 bits, so that the threshold is read as is and the
// other fields in 16-bit arithmetic. On a 32-bit core one 32-bit load and a bit-field extract
// are cheaper than two loads.
bool int_is_narrow(const EmitContext& context) { return context.target.int_bits <= 16; }

// The comment of a record's feature, threshold and NaN-left fields.
std::string split_fields_doc(const std::string& p, const Head& head,
                             const CompactThresholds& thresholds, bool nan_left,
                             uint32_t nan_shift) {
  const std::string feature = bit_range(head.feature_shift(), head.feature_bits) + " the feature";
  const std::string threshold =
      bit_range(head.threshold_shift(), thresholds.bits) +
      (thresholds.ranked            ? " the rank of its threshold in " + p + "_threshold"
       : thresholds.biased_compare() ? " its threshold code + 32768"
                                     : " its threshold code less the smallest one");
  return (head.threshold_first ? threshold + ",\n * " + feature
                               : feature + ",\n * " + threshold) +
         (nan_left ? ",\n * " + bit_range(nan_shift, 1) + " set when a NaN input goes left"
                   : std::string());
}

// The comparison of a compact walk: {{compare_inputs}} (statements before it) and {{goes_left}}.
TemplateValues compact_comparison(const Head& head, const CompactThresholds& thresholds,
                                  const RecordFields& fields, bool nan_left, uint32_t nan_shift) {
  const std::string input =
      "x[" + fields.bare(head.feature_shift(), head.feature_bits) + "]";
  const std::string threshold =
      thresholds.expr(fields.field(head.threshold_shift(), thresholds.bits));
  return {{"compare_inputs",
           nan_left ? "        const float value = " + input +
                          ";\n        const float threshold = " + threshold + ";\n"
                    : std::string()},
          {"goes_left",
           // One comparison a split either way: !(value > threshold) is value <= threshold or
           // NaN. (Testing value != value only where the bit is set was measured slower with
           // soft float: a second call.)
           nan_left ? fields.bit_set(nan_shift) + " ? !(value > threshold) : value <= threshold"
           : thresholds.biased_compare()
               ? "((uint16_t)" + input + " ^ 0x8000u) <= " +
                     fields.field(head.threshold_shift(), thresholds.bits)
               : input + " <= " + threshold}};
}

const char* kCompactFindLeaf = R"(/* Walks tree t to its leaf and returns the leaf's reference. Split node i is a packed record,
 * {{p}}_split: {{fields}}.
 * Splits are stored tree by tree in pre-order: the left child of a split is the next node; its
 * right child is the next node too when the left child is a leaf, else it follows the splits of
 * the left subtree, whose number is the payload. A child that is a leaf is not stored as a node:
 * its bit is set and the payload holds its leaf code ({{code_doc}}), or, when both children are
 * leaves, the two codes: {{pair_doc}}.
 * A tree that is one leaf is a split with that leaf on both sides. x[feature] <= threshold goes
 * left; the walk only moves forward and ends at a leaf. */
static inline uint32_t {{p}}_find_leaf(uint32_t t, const {{xt}} x[]) {
    {{idx_t}} node = ({{idx_t}}){{p}}_tree_first[t];
{{split_decl}}    {{code_t}} code;
    {{code_t}} right;
    for (;;) {
{{split_read}}{{compare_inputs}}        if ({{goes_left}}) {
            if ({{left_leaf}}) {
                right = 0u;
                break;
            }
            node = ({{idx_t}})(node + 1u);
        } else {
            if ({{right_leaf}}) {
                right = 1u;
                break;
            }
            node = ({{idx_t}})(node + 1u + ({{left_leaf}} ? 0u : {{payload}}));
        }
    }
    code = ({{code_t}}){{payload}};
    if ({{both_leaves}}) {
{{pair}}    }
    return {{ref}};
}

)";

// What the walk of leaf codes (compact_find_leaf) takes in code beyond the walk of counted
// leaves (compact_find_leaf_counted), in bytes of flash: the decoding of a leaf code after the
// loop. Measured at -Os on the bench's trees (firmware flash less the tables' difference): 31
// to 55 bytes in fixed mode (Cortex-M4F, M0, ATmega328P; 10-tree depth-8 iris forest), 61 to
// 95 in float mode (unlimited ceiling-fan tree).
constexpr uint64_t kCodedWalkBytes[2] = {40, 80};  // fixed, float

// Compact layout: the leaf reference of every leaf of the pre-order (PreOrder::leaf), and what
// the references are: below n_fixed a reference is the same in every tree (a pure leaf's class),
// from n_fixed on it may be stored less a base of its tree, so that a tree's codes stay small.
struct CompactLeaves {
  std::vector<uint64_t> ref;  // per leaf of the pre-order
  uint64_t n_refs = 0;
  uint64_t n_fixed = 0;
};

// The largest number of splits of a left subtree whose split has a split on each side: the
// payload of such a split (compact_find_leaf).
uint32_t max_left_splits(const PreOrder& order) {
  uint32_t most = 0;
  for (std::size_t i = 0; i < order.split.size(); ++i) {
    if (order.n_left[i] > 1 && !order.right_leaf[i]) most = std::max(most, order.n_left[i] - 1);
  }
  return most;
}

// Compact layout, leaf codes: the shape of the records (payload width, codes less a base per
// tree or not, the pairs that go to a table). A split with two leaf children holds both codes
// in P bits (the left in the low half) when they fit, else (its pair bit set) the number of its
// pair in the tree's part of a table of pairs.
struct Shape {
  uint32_t payload_bits = 0;
  bool window = false;
  uint64_t pairs = 0;       // codes in the pair table (two a split)
  uint64_t pair_code_max = 0;
  uint64_t bytes = ~0ull;
};

// The leaf-code format (compact_find_leaf) as planned before a table is written: the children
// of every split, the per-tree bases, the threshold field and the shape, and the bytes of its
// tables (coded_table_bytes).
struct CodedPlan {
  std::vector<uint32_t> first;  // per tree, its first split node; then the end of the last
  std::vector<uint8_t> left_leaf;
  std::vector<uint8_t> right_leaf;
  std::vector<uint64_t> left_ref;
  std::vector<uint64_t> right_ref;
  std::vector<uint32_t> tree_of;
  std::vector<uint64_t> base;  // per tree, the base of its codes from leaves.n_fixed on
  bool nan_left = false;
  uint32_t feature_bits = 0;
  ThresholdField thresholds;
  Head head;
  PartsRule parts_rule;  // of the records (the pairs: narrow alone)
  Shape shape;
  // Split records: feature | threshold (or threshold | feature: Head) | [NaN-left] | left leaf |
  // right leaf | [pair] and the payload, from the low bits up. The payload lies in the second
  // part of the record when the rest fits the first (the walk then reads that part only where
  // it needs the payload), else right above.
  uint32_t nan_shift = 0;
  uint32_t left_shift = 0;
  uint32_t pair_shift = 0;
  uint32_t head_bits = 0;
  bool payload_high = false;
  uint32_t payload_shift = 0;
  uint64_t bytes = 0;  // of the tables compact_find_leaf writes
};

// The bytes of the tables compact_find_leaf writes for `plan`, in its order: the tree starts,
// the thresholds, the records, the pair starts and pairs, the bases.
uint64_t coded_table_bytes(const CodedPlan& plan, const DistinctThresholds& distinct) {
  const auto n_entries = static_cast<uint64_t>(plan.left_leaf.size());
  const uint64_t n_trees = plan.base.size();
  const uint32_t pb = plan.shape.payload_bits;
  uint64_t bytes = (n_trees + 1) * unsigned_type_for(n_entries).bytes +
                   threshold_table_bytes(distinct, plan.thresholds) +
                   parts_bytes(n_entries, column_parts(plan.payload_shift + pb, n_entries,
                                                      plan.parts_rule));
  const uint64_t pairs = plan.shape.pairs;
  if (pairs != 0) {
    bytes += (n_trees + 1) * unsigned_type_for(pairs).bytes +
             parts_bytes(pairs, column_parts(bits_for(plan.shape.pair_code_max), pairs,
                                             {plan.parts_rule.narrow, false}));
  }
  if (plan.shape.window) {
    const uint64_t base_max = *std::max_element(plan.base.begin(), plan.base.end());
    bytes += n_trees * unsigned_type_for(base_max).bytes;
  }
  return bytes;
}

// The leaf code of reference `ref` in tree t: less the tree's base (window) from n_fixed on.
uint64_t coded_leaf_code(const CodedPlan& plan, const CompactLeaves& leaves, uint64_t ref,
                         uint32_t t, bool window) {
  return window && ref >= leaves.n_fixed ? ref - plan.base[t] : ref;
}

CodedPlan plan_coded(const TreeProgram& program, const PreOrder& order,
                     const CompactLeaves& leaves, const DistinctThresholds& distinct,
                     bool narrow_int) {
  CodedPlan plan;
  const auto n_entries = static_cast<uint32_t>(order.split.size());
  const auto n_trees = static_cast<uint32_t>(order.tree_first.size());
  plan.first = order.tree_first;
  plan.first.push_back(n_entries);
  const std::vector<uint32_t>& first = plan.first;

  // The children of every split: leaf or not, the leaf's reference, the tree.
  std::vector<uint8_t>& left_leaf = plan.left_leaf;
  std::vector<uint8_t>& right_leaf = plan.right_leaf;
  std::vector<uint64_t>& left_ref = plan.left_ref;
  std::vector<uint64_t>& right_ref = plan.right_ref;
  std::vector<uint32_t>& tree_of = plan.tree_of;
  left_leaf.assign(n_entries, 0);
  right_leaf.assign(n_entries, 0);
  left_ref.assign(n_entries, 0);
  right_ref.assign(n_entries, 0);
  tree_of.assign(n_entries, 0);
  {
    std::vector<uint32_t> leaf_pos(n_entries, 0);  // the pre-order number of its first leaf
    for (uint32_t t = 0; t < n_trees; ++t) {
      if (first[t] < first[t + 1]) leaf_pos[first[t]] = first[t] + t;
      for (uint32_t i = first[t]; i < first[t + 1]; ++i) tree_of[i] = t;
    }
    for (uint32_t i = 0; i < n_entries; ++i) {
      const uint32_t lp = leaf_pos[i];
      left_leaf[i] = order.n_left[i] == 1 ? 1 : 0;
      right_leaf[i] = order.right_leaf[i] ? 1 : 0;
      if (left_leaf[i] != 0) {
        left_ref[i] = leaves.ref[lp];
      } else {
        leaf_pos[i + 1] = lp;
      }
      if (right_leaf[i] != 0) {
        right_ref[i] = leaves.ref[lp + order.n_left[i]];
      } else {
        leaf_pos[i + order.n_left[i]] = lp + order.n_left[i];
      }
    }
  }
  // Per tree, the smallest reference from n_fixed on, less n_fixed: the base of its codes.
  std::vector<uint64_t>& base = plan.base;
  base.assign(n_trees, ~0ull);
  for (uint32_t i = 0; i < n_entries; ++i) {
    for (int side = 0; side < 2; ++side) {
      const bool is_leaf = side == 0 ? left_leaf[i] != 0 : right_leaf[i] != 0;
      const uint64_t ref = side == 0 ? left_ref[i] : right_ref[i];
      if (is_leaf && ref >= leaves.n_fixed) {
        base[tree_of[i]] = std::min(base[tree_of[i]], ref - leaves.n_fixed);
      }
    }
  }
  for (uint64_t& b : base) {
    if (b == ~0ull) b = 0;
  }
  const uint32_t max_skip = max_left_splits(order);

  // The payload's width P and whether codes are stored less their tree's base: the fewest
  // table and code bytes (shape_for). Which widths fit, and the pairs each sends to the table,
  // do not depend on the record's other fields (the threshold field's width is chosen by
  // shape_for's bytes), so they are found once, for every width and window in one pass over the
  // splits, rather than in one pass per width for each call: a split with two leaf children
  // holds its codes in P bits (the left in the low P / 2, the right in the other P - P / 2) from
  // P = max(2 * bits(left code), 2 * bits(right code) - 1) on, and below that its two codes go
  // to the pair table; a width fits when every lone leaf child's code fits it and the payload
  // of each tree's last pair, 2 * (its pairs - 1), is below 2^P.
  struct WidthStats {
    bool feasible = false;
    uint64_t pairs = 0;
    uint64_t pair_code_max = 0;
  };
  const uint32_t p_min = std::max<uint32_t>(bits_for(max_skip), 1);
  const uint32_t p_max = std::min<uint32_t>(p_min + 16, 40);
  const uint32_t n_widths = p_max - p_min + 1;
  std::vector<WidthStats> stats(2 * std::size_t{n_widths});  // [window * n_widths + P - p_min]
  for (int w = 0; w < 2; ++w) {
    const bool window = w != 0;
    if (window && leaves.n_fixed >= leaves.n_refs) continue;  // no width is feasible
    // Bucket k < n_widths: the splits whose codes fit P = p_min + k and up; n_widths: none.
    std::vector<uint64_t> count(n_widths + 1, 0);
    std::vector<uint64_t> code_max(n_widths + 1, 0);
    std::vector<uint64_t> tree_count(n_widths + 1, 0);
    std::vector<uint64_t> most(n_widths, 0);  // per width, the most pairs of one tree
    uint32_t lone_bits = 0;  // the widest code of a lone leaf child
    for (uint32_t t = 0; t < n_trees; ++t) {
      bool any = false;
      std::fill(tree_count.begin(), tree_count.end(), 0);
      for (uint32_t i = first[t]; i < first[t + 1]; ++i) {
        const uint64_t lc = coded_leaf_code(plan, leaves, left_ref[i], t, window);
        const uint64_t rc = coded_leaf_code(plan, leaves, right_ref[i], t, window);
        if (left_leaf[i] != 0 && right_leaf[i] != 0) {
          const uint32_t right_bits = bits_for(rc);
          const uint32_t need =
              std::max<uint32_t>(2 * bits_for(lc), right_bits == 0 ? 0 : 2 * right_bits - 1);
          const uint32_t k = std::min(std::max(need, p_min), p_max + 1) - p_min;
          ++count[k];
          ++tree_count[k];
          code_max[k] = std::max({code_max[k], lc, rc});
          any = true;
        } else if (left_leaf[i] != 0) {
          lone_bits = std::max(lone_bits, bits_for(lc));
        } else if (right_leaf[i] != 0) {
          lone_bits = std::max(lone_bits, bits_for(rc));
        }
      }
      if (!any) continue;
      uint64_t above = 0;  // the tree's splits whose codes do not fit p_min + k
      for (uint32_t k = n_widths; k-- > 0;) {
        above += tree_count[k + 1];
        most[k] = std::max(most[k], above);
      }
    }
    uint64_t above = 0;
    uint64_t above_max = 0;
    for (uint32_t k = n_widths; k-- > 0;) {
      above += count[k + 1];
      above_max = std::max(above_max, code_max[k + 1]);
      const uint32_t pb = p_min + k;
      WidthStats& s = stats[w * std::size_t{n_widths} + k];
      s.feasible = lone_bits <= pb && (most[k] == 0 || 2 * (most[k] - 1) < (1ull << pb));
      s.pairs = 2 * above;
      s.pair_code_max = above_max;
    }
  }
  const auto shape_for = [&](uint32_t head_bits, PartsRule rule) {
    Shape best;
    for (uint32_t pb = p_min; pb <= p_max; ++pb) {
      for (int w = 0; w < 2; ++w) {
        const bool window = w != 0;
        const WidthStats& s = stats[w * std::size_t{n_widths} + (pb - p_min)];
        if (!s.feasible) continue;
        const uint32_t head = head_bits + (s.pairs != 0 ? 1 : 0);
        uint64_t bytes =
            column_cost(n_entries, head + pb, rule) + (window ? 2ull * n_trees + 16 : 0);
        if (s.pairs != 0) {
          bytes += column_cost(s.pairs, bits_for(s.pair_code_max), {narrow_int, false}) +
                   2ull * n_trees + 32;
        }
        if (bytes < best.bytes) {
          best = {pb, window, s.pairs, s.pair_code_max, bytes};
        }
      }
    }
    if (best.bytes == ~0ull) internal_error(__FILE__, __LINE__, "no compact record fits");
    return best;
  };

  plan.nan_left = any_nan_left(program, order);
  plan.feature_bits = bits_for(static_cast<uint64_t>(program.n_features) - 1);
  const uint32_t flag_bits = (plan.nan_left ? 1 : 0) + 2;  // [NaN-left], left leaf, right leaf
  plan.thresholds = threshold_field(distinct, [&](ThresholdField field) {
    return shape_for(plan.feature_bits + field.bits + flag_bits,
                     {narrow_int, narrow_int && threshold_first(distinct, field)})
        .bytes;
  });
  plan.head = {plan.feature_bits, plan.thresholds.bits, threshold_first(distinct, plan.thresholds)};
  plan.parts_rule = {narrow_int, narrow_int && plan.head.threshold_first};
  plan.shape = shape_for(plan.feature_bits + plan.thresholds.bits + flag_bits, plan.parts_rule);

  const uint32_t pb = plan.shape.payload_bits;
  plan.nan_shift = plan.feature_bits + plan.thresholds.bits;
  plan.left_shift = plan.nan_shift + (plan.nan_left ? 1 : 0);
  plan.pair_shift = plan.left_shift + 2;
  plan.head_bits = plan.pair_shift + (plan.shape.pairs != 0 ? 1 : 0);
  const ColumnParts tight = column_parts(plan.head_bits + pb, n_entries, plan.parts_rule);
  plan.payload_high = tight.high != 0 && tight.low != 0 && plan.head_bits <= tight.low &&
                      pb <= tight.high;
  plan.payload_shift = plan.payload_high ? tight.low : plan.head_bits;
  plan.bytes = coded_table_bytes(plan, distinct);
  return plan;
}

// Compact layout: the packed tables of `plan` (plan_coded) and `{{p}}_find_leaf(t, x)`.
std::string compact_find_leaf(const EmitContext& context, const TreeProgram& program,
                              const PreOrder& order, const CompactLeaves& leaves,
                              const DistinctThresholds& distinct, const CodedPlan& plan,
                              FamilyCode& code) {
  const std::string& p = context.prefix;
  const uint32_t n_entries = static_cast<uint32_t>(order.split.size());
  const uint32_t n_trees = static_cast<uint32_t>(order.tree_first.size());
  // Node numbers in the narrowest fast type that holds them (16 bits on AVR).
  const std::string idx_t = n_entries + 1u <= 0xffffu ? "uint_fast16_t" : "uint32_t";
  std::string functions;

  const std::vector<uint32_t>& first = plan.first;
  const CType first_type = unsigned_type_for(n_entries);
  code.tables.add(first_type.name, first_type.bytes, p + "_tree_first", integer_literals(first),
                  "the first split node of each tree, and the end of the last");
  const std::vector<uint8_t>& left_leaf = plan.left_leaf;
  const std::vector<uint8_t>& right_leaf = plan.right_leaf;
  const std::vector<uint64_t>& left_ref = plan.left_ref;
  const std::vector<uint64_t>& right_ref = plan.right_ref;
  const std::vector<uint32_t>& tree_of = plan.tree_of;
  const std::vector<uint64_t>& base = plan.base;
  const auto leaf_code = [&](uint64_t ref, uint32_t t, bool window) {
    return coded_leaf_code(plan, leaves, ref, t, window);
  };
  const bool nan_left = plan.nan_left;
  const CompactThresholds thresholds =
      compact_thresholds(context, program, order, distinct, plan.thresholds, code);
  const Shape& shape = plan.shape;
  const uint32_t pb = shape.payload_bits;
  const uint32_t half = pb / 2;
  const bool any_pair = shape.pairs != 0;
  const uint32_t nan_shift = plan.nan_shift;
  const uint32_t left_shift = plan.left_shift;
  const uint32_t pair_shift = plan.pair_shift;
  const uint32_t head_bits = plan.head_bits;
  const uint32_t payload_shift = plan.payload_shift;
  std::vector<uint64_t> records;
  std::vector<uint64_t> pair_codes;
  std::vector<uint64_t> pair_first(n_trees + 1, 0);
  for (uint32_t i = 0; i < n_entries; ++i) {
    const uint32_t s = order.split[i];
    const uint32_t t = tree_of[i];
    uint64_t r = static_cast<uint64_t>(s == kNoSplit ? 0 : program.feature[s])
                 << plan.head.feature_shift();
    r |= thresholds.field[i] << plan.head.threshold_shift();
    if (nan_left && s != kNoSplit && program.nan_left[s] != 0) r |= 1ull << nan_shift;
    const uint64_t lc = leaf_code(left_ref[i], t, shape.window);
    const uint64_t rc = leaf_code(right_ref[i], t, shape.window);
    uint64_t payload = 0;
    if (left_leaf[i] != 0) r |= 1ull << left_shift;
    if (right_leaf[i] != 0) r |= 1ull << (left_shift + 1);
    if (left_leaf[i] != 0 && right_leaf[i] != 0) {
      if (lc < (1ull << half) && rc < (1ull << (pb - half))) {
        payload = lc | rc << half;
      } else {
        r |= 1ull << pair_shift;
        payload = pair_codes.size() - pair_first[t];
        pair_codes.push_back(lc);
        pair_codes.push_back(rc);
      }
    } else if (left_leaf[i] != 0) {
      payload = lc;
    } else if (right_leaf[i] != 0) {
      payload = rc;
    } else {
      payload = order.n_left[i] - 1;  // the splits of the left subtree
    }
    MCUPORT_ASSERT(payload < (1ull << pb));
    records.push_back(r | payload << payload_shift);
    if (i + 1 == first[t + 1]) {
      for (uint32_t u = t + 1; u <= n_trees; ++u) pair_first[u] = pair_codes.size();
    }
  }
  MCUPORT_ASSERT(pair_codes.size() == shape.pairs);
  const Column column = add_column(code, p + "_split", records, payload_shift + pb, idx_t,
                                   "split nodes, in pre-order per tree (see " + p +
                                       "_find_leaf)",
                                   plan.parts_rule);
  const ColumnParts parts = column.parts;
  const std::string code_t = read_type(std::max<uint32_t>(
      pb, any_pair ? bits_for(shape.pair_code_max) : 0));
  // The walk reads the low part at every split, and the high part there too when a field the
  // walk tests lies in it; else only where the payload needs it (the payload is read where the
  // split's fields were: `node` is that split's until the walk ends).
  RecordFields fields{parts, payload_shift + pb};
  fields.shift_top_bit = !int_is_narrow(context);
  std::string split_decl;
  std::string split_read;
  if (parts.low != 0) {
    const std::string low_t = part_type(parts.low);
    split_decl += "    " + low_t + " split;\n";
    split_read += "        split = " + column.low("node", low_t) + ";\n";
  }
  const std::string high_t = part_type(parts.high);
  if (parts.high != 0 && fields.in_high(0, head_bits)) {
    split_decl += "    " + high_t + " high;\n";
    split_read += "        high = " + column.high("node", high_t) + ";\n";
  } else if (parts.high != 0) {
    fields.high = "(" + column.high("node", high_t) + ")";
  }
  const std::string payload = fields.field(payload_shift, pb);
  // The pair table and the per-tree bases.
  std::string pair_code;
  const std::string split_code =
      "        code = (" + code_t + ")(right != 0u ? code >> " + std::to_string(half) +
      " : code & " + hex_mask(half) + ");\n";
  if (any_pair) {
    const CType pf_type = unsigned_type_for(pair_codes.size());
    code.tables.add(pf_type.name, pf_type.bytes, p + "_leaf_pair_first",
                    integer_literals(pair_first),
                    "the first entry of each tree in " + p + "_leaf_pair, and the end of the last");
    const std::string pair_idx_t = pair_codes.size() + 1 <= 0xffffu ? "uint_fast16_t" : "uint32_t";
    functions += add_column(code, p + "_leaf_pair", pair_codes, bits_for(shape.pair_code_max),
                            pair_idx_t,
                            "the leaf codes of splits with two leaf children that do not fit "
                            "their payload: left, right",
                            {plan.parts_rule.narrow, false})
                     .function;
    pair_code = "        if (" + fields.bit_set(pair_shift) + ") {\n            code = (" +
                code_t + ")" + p + "_leaf_pair_at((" + pair_idx_t + ")(" + p +
                "_leaf_pair_first[t] + code + right));\n        } else {\n    " + split_code +
                "        }\n";
  } else {
    pair_code = split_code;
  }
  std::string ref = "(uint32_t)code";
  if (shape.window) {
    const CType base_type = unsigned_type_for(*std::max_element(base.begin(), base.end()));
    code.tables.add(base_type.name, base_type.bytes, p + "_leaf_base", integer_literals(base),
                    "per tree, what its leaf codes from " + std::to_string(leaves.n_fixed) +
                        " on are less than the leaf references");
    ref = leaves.n_fixed == 0
              ? "(uint32_t)code + (uint32_t)" + p + "_leaf_base[t]"
              : "code < " + std::to_string(leaves.n_fixed) + "u ? (uint32_t)code : (uint32_t)code + (uint32_t)" +
                    p + "_leaf_base[t]";
  }
  const std::string fields_doc =
      split_fields_doc(p, plan.head, thresholds, nan_left, nan_shift) + ",\n * " +
      bit_range(left_shift, 1) + " set when the left child is a leaf, " +
      bit_range(left_shift + 1, 1) + " when the right one is" +
      (any_pair ? ",\n * " + bit_range(pair_shift, 1) + " set when the two leaf codes are in " +
                      p + "_leaf_pair"
                : std::string()) +
      ",\n * " + bit_range(payload_shift, pb) + " the payload";
  const std::string code_doc =
      shape.window ? (leaves.n_fixed == 0
                          ? "the leaf reference less " + p + "_leaf_base[t]"
                          : "a reference below " + std::to_string(leaves.n_fixed) +
                                " as is, a larger one less " + p + "_leaf_base[t]")
                   : "the leaf reference";
  const std::string pair_doc =
      "the left one in the low " + std::to_string(half) + " bits" +
      (any_pair ? ", or (pair bit) the position of the two\n * in tree t's part of " + p +
                      "_leaf_pair"
                : std::string());
  TemplateValues values =
      compact_comparison(plan.head, thresholds, fields, nan_left, nan_shift);
  values.insert({{"fields", fields_doc},
                 {"code_doc", code_doc},
                 {"pair_doc", pair_doc},
                 {"split_decl", split_decl},
                 {"split_read", split_read},
                 {"code_t", code_t},
                 {"payload", payload},
                 {"idx_t", idx_t},
                 {"left_leaf", fields.bit_set(left_shift)},
                 {"right_leaf", fields.bit_set(left_shift + 1)},
                 {"both_leaves", fields.all_set(left_shift, 2)},
                 {"pair", pair_code},
                 {"ref", ref}});
  return functions + context.render(kCompactFindLeaf, values);
}

const char* kCountedFindLeaf = R"(/* Walks tree t to its leaf and returns the leaf's reference. Split node i is a packed record,
 * {{p}}_split: {{fields}}.
 * Splits are stored tree by tree in pre-order: the left child of a split is the next node; its
 * right child follows the n_left - 1 splits of the left subtree. Leaves are numbered in
 * pre-order as well (tree t's first leaf is its first split + t), so no child index is stored.
 * {{right_leaf_doc}}
 * A tree that is one leaf is a split with that leaf on both sides. x[feature] <= threshold goes
 * left; the walk only moves forward and ends at a leaf. */
static inline uint32_t {{p}}_find_leaf(uint32_t t, const {{xt}} x[]) {
    {{idx_t}} node = ({{idx_t}}){{p}}_tree_first[t];
{{size_init}}    {{idx_t}} leaf = ({{idx_t}})(node + t);
    for (;;) {
{{split_read}}        const {{idx_t}} n_left = ({{idx_t}})({{n_left}});
{{compare_inputs}}        if ({{goes_left}}) {
            if (n_left == 1u) {
                break;
            }
{{left_size}}            node = ({{idx_t}})(node + 1u);
        } else {
            leaf = ({{idx_t}})(leaf + n_left);
{{right_leaf_test}}            node = ({{idx_t}})(node + n_left);
        }
    }
    return (uint32_t){{p}}_leaf_ref_at(leaf);
}

)";

// Compact layout, counted leaves: the records' fields as planned before a table is written, and
// the bytes of its tables (counted_table_bytes).
struct CountedPlan {
  uint32_t feature_bits = 0;
  Head head;
  PartsRule parts_rule;  // of the records (the leaf references: narrow alone)
  // n_left is stored as is, or less one when that saves a bit (a largest n_left of 2^k).
  uint32_t nl_offset = 0;
  uint32_t nl_bits = 0;
  ThresholdField thresholds;
  // Split records: feature | threshold (or threshold | feature: Head) | [NaN-left] |
  // [right-is-leaf] | n_left (less nl_offset), from the low bits up. The right-is-leaf bit is
  // there when the record has a spare bit for it (the walk reads both parts of a record); else
  // the walk counts the leaves of the current subtree to know when the right child is a leaf
  // (it is when its subtree has one).
  bool nan_left = false;
  uint32_t nan_shift = 0;
  uint32_t bit_shift = 0;
  bool right_leaf_bit = false;
  uint32_t nl_shift = 0;
  uint32_t record_bits = 0;
  uint64_t bytes = 0;  // of the tables compact_find_leaf_counted writes
};

// The bytes of the tables compact_find_leaf_counted writes for `plan`, in its order: the leaf
// references, the tree starts, the thresholds, the records.
uint64_t counted_table_bytes(const CountedPlan& plan, const PreOrder& order,
                             const CompactLeaves& leaves, const DistinctThresholds& distinct) {
  const uint64_t n_entries = order.split.size();
  const uint64_t n_leaves = leaves.ref.size();
  return parts_bytes(n_leaves,
                     column_parts(bits_for(std::max<uint64_t>(leaves.n_refs, 1) - 1), n_leaves,
                                  {plan.parts_rule.narrow, false})) +
         (order.tree_first.size() + 1) * unsigned_type_for(n_entries).bytes +
         threshold_table_bytes(distinct, plan.thresholds) +
         parts_bytes(n_entries,
                     column_parts(plan.record_bits, n_entries, plan.parts_rule));
}

CountedPlan plan_counted(const TreeProgram& program, const PreOrder& order,
                         const CompactLeaves& leaves, const DistinctThresholds& distinct,
                         bool narrow_int) {
  CountedPlan plan;
  const uint32_t n_entries = static_cast<uint32_t>(order.split.size());
  uint32_t max_n_left = 1;
  for (uint32_t n : order.n_left) max_n_left = std::max(max_n_left, n);
  plan.feature_bits = bits_for(static_cast<uint64_t>(program.n_features) - 1);
  plan.nl_offset = bits_for(max_n_left) > bits_for(max_n_left - 1) ? 1 : 0;
  plan.nl_bits = bits_for(max_n_left - plan.nl_offset);
  plan.thresholds = threshold_field(distinct, [&](ThresholdField field) {
    return column_cost(n_entries, plan.feature_bits + field.bits + plan.nl_bits,
                       {narrow_int, narrow_int && threshold_first(distinct, field)});
  });
  plan.head = {plan.feature_bits, plan.thresholds.bits, threshold_first(distinct, plan.thresholds)};
  plan.parts_rule = {narrow_int, narrow_int && plan.head.threshold_first};
  const PartsRule rule = plan.parts_rule;
  plan.nan_left = any_nan_left(program, order);
  plan.nan_shift = plan.feature_bits + plan.thresholds.bits;
  plan.bit_shift = plan.nan_shift + (plan.nan_left ? 1 : 0);
  const ColumnParts tight = column_parts(plan.bit_shift + plan.nl_bits, n_entries, rule);
  const ColumnParts with_bit = column_parts(plan.bit_shift + plan.nl_bits + 1, n_entries, rule);
  plan.right_leaf_bit = with_bit.low == tight.low && with_bit.high == tight.high;
  plan.nl_shift = plan.bit_shift + (plan.right_leaf_bit ? 1 : 0);
  plan.record_bits = plan.nl_shift + plan.nl_bits;
  plan.bytes = counted_table_bytes(plan, order, leaves, distinct);
  return plan;
}

// Compact layout, counted leaves: the packed tables of `plan` (plan_counted) and
// `{{p}}_find_leaf(t, x)`, the records holding the leaves of the left subtree and the leaves a
// table of references in pre-order.
std::string compact_find_leaf_counted(const EmitContext& context, const TreeProgram& program,
                                      const PreOrder& order, const CompactLeaves& leaves,
                                      const DistinctThresholds& distinct,
                                      const CountedPlan& plan, FamilyCode& code) {
  const std::string& p = context.prefix;
  const uint32_t n_entries = static_cast<uint32_t>(order.split.size());
  // Node and leaf numbers in the narrowest fast type that holds them (16 bits on AVR).
  const uint64_t max_index = static_cast<uint64_t>(n_entries) + program.n_trees;
  const std::string idx_t = max_index <= 0xffffu ? "uint_fast16_t" : "uint32_t";
  std::string functions;

  functions += add_column(code, p + "_leaf_ref", leaves.ref,
                          bits_for(std::max<uint64_t>(leaves.n_refs, 1) - 1),
                          idx_t, "the reference of every leaf, in pre-order",
                          {plan.parts_rule.narrow, false})
                   .function;
  std::vector<uint32_t> first = order.tree_first;
  first.push_back(n_entries);
  const CType first_type = unsigned_type_for(n_entries);
  code.tables.add(first_type.name, first_type.bytes, p + "_tree_first", integer_literals(first),
                  "the first split node of each tree, and the end of the last");

  const uint32_t nl_offset = plan.nl_offset;
  const uint32_t nl_bits = plan.nl_bits;
  const CompactThresholds thresholds =
      compact_thresholds(context, program, order, distinct, plan.thresholds, code);
  const bool nan_left = plan.nan_left;
  const uint32_t nan_shift = plan.nan_shift;
  const uint32_t bit_shift = plan.bit_shift;
  const bool right_leaf_bit = plan.right_leaf_bit;
  const uint32_t nl_shift = plan.nl_shift;
  const uint32_t record_bits = plan.record_bits;
  std::vector<uint64_t> records;
  for (uint32_t i = 0; i < n_entries; ++i) {
    uint64_t r =
        static_cast<uint64_t>(order.split[i] == kNoSplit ? 0 : program.feature[order.split[i]])
        << plan.head.feature_shift();
    r |= thresholds.field[i] << plan.head.threshold_shift();
    if (nan_left && order.split[i] != kNoSplit && program.nan_left[order.split[i]] != 0) {
      r |= 1ull << nan_shift;
    }
    if (right_leaf_bit && order.right_leaf[i]) r |= 1ull << bit_shift;
    r |= static_cast<uint64_t>(order.n_left[i] - nl_offset) << nl_shift;
    records.push_back(r);
  }
  const Column column = add_column(code, p + "_split", records, record_bits, idx_t,
                                   "split nodes, in pre-order per tree (see " + p +
                                       "_find_leaf)",
                                   plan.parts_rule);
  // The walk reads both parts of the record at every split (n_left is in the high part, where
  // there is one): the high part into a local where more than one field lies in it, else in
  // that field's expression (avr-gcc schedules the latter better: 825 against 925 cycles on the
  // unlimited digits tree).
  const ColumnParts parts = column.parts;
  RecordFields fields{parts, record_bits};
  fields.shift_top_bit = !int_is_narrow(context);
  std::string split_read;
  if (parts.low != 0) {
    const std::string low_t = part_type(parts.low);
    split_read += "        const " + low_t + " split = " + column.low("node", low_t) + ";\n";
  }
  if (parts.high != 0) {
    const Head& head = plan.head;
    const int in_high = (fields.in_high(head.feature_shift(), head.feature_bits) ? 1 : 0) +
                        (fields.in_high(head.threshold_shift(), head.threshold_bits) ? 1 : 0) +
                        (nan_left && fields.in_high(nan_shift, 1) ? 1 : 0) +
                        (right_leaf_bit && fields.in_high(bit_shift, 1) ? 1 : 0) +
                        (fields.in_high(nl_shift, nl_bits) ? 1 : 0);
    const std::string high_t = part_type(parts.high);
    if (in_high > 1) {
      split_read += "        const " + high_t + " high = " + column.high("node", high_t) + ";\n";
    } else {
      fields.high = "(" + column.high("node", high_t) + ")";
    }
  }
  // every left child is a leaf where n_left has no bits
  const std::string n_left = nl_bits == 0 ? std::string("1u")
                             : nl_offset != 0 ? fields.field(nl_shift, nl_bits) + " + 1u"
                                              : fields.bare(nl_shift, nl_bits);
  const std::string fields_doc =
      split_fields_doc(p, plan.head, thresholds, nan_left, nan_shift) +
      (right_leaf_bit ? ",\n * " + bit_range(bit_shift, 1) + " set when the right child is a leaf"
                      : std::string()) +
      ",\n * the bits above n_left" + (nl_offset != 0 ? std::string(" - 1") : std::string()) +
      " (n_left: the leaves of the left subtree)";
  TemplateValues values =
      compact_comparison(plan.head, thresholds, fields, nan_left, nan_shift);
  values.insert({{"fields", fields_doc},
                 {"split_read", split_read},
                 {"n_left", n_left},
                 {"idx_t", idx_t},
                 {"right_leaf_doc",
                  right_leaf_bit
                      ? "The right-is-leaf bit says when the right child is a leaf."
                      : "A subtree's leaf count says when a child is a leaf: tree t "
                        "has tree_first[t + 1] -\n * tree_first[t] + 1 leaves, the left "
                        "child of a split n_left of its subtree's, the right\n * child "
                        "the rest."},
                 {"size_init",
                  right_leaf_bit ? std::string()
                                 : "    " + idx_t + " size = (" + idx_t + ")(" + p +
                                       "_tree_first[t + 1u] - node + 1u);\n"},
                 {"left_size", right_leaf_bit ? "" : "            size = n_left;\n"},
                 {"right_leaf_test",
                  right_leaf_bit
                      ? "            if (" + fields.bit_set(bit_shift) +
                            ") {\n                break;\n            }\n"
                      : "            size = (" + idx_t +
                            ")(size - n_left);\n            if (size == 1u) {\n"
                            "                break;\n            }\n"}});
  return functions + context.render(kCountedFindLeaf, values);
}

// Compact layout: the leaf references of the pre-order's leaves. For a forest with mixed
// leaves, the nonzero probabilities of every mixed leaf as entries (class | value | a bit set on
// the leaf's last entry, or no bit: see `ordered` below); a mixed leaf's reference is n_classes
// + its first entry, so no index of the leaves' starts is stored. `coded` (the leaf codes of
// compact_find_leaf): the mixed leaves are laid out tree by tree, a leaf of an earlier tree used
// again when it lies close enough (else stored again), so that a tree's references from
// n_classes on span less than 2^8 - n_classes entries (or 2^P - n_classes, P the bits of the
// largest number of left-subtree splits), which compact_find_leaf stores less a base per tree,
// in few bits; else (counted leaves) each leaf is stored once.
// A value is the probability itself (fixed mode), or its rank among the distinct probabilities
// when that takes fewer bytes (always in float mode, whose values are float64).
// plan_entries decides the layout and the fields and counts the bytes of the tables;
// compact_entries writes them.
constexpr uint32_t kSentinel = 0xffffffffu;  // an entry that ends the leaf before it

struct EntriesPlan {
  CompactLeaves leaves;
  bool any = false;             // mixed leaves as entries: tables for compact_entries to write
  std::vector<uint32_t> items;  // indices into coding.mixed, or kSentinel, in entry order
  uint64_t n_entries = 0;
  bool ordered = false;
  bool ranked = false;
  uint32_t class_bits = 0;
  uint32_t value_bits = 0;
  std::vector<uint64_t> distinct_codes;  // fixed mode, ascending
  std::vector<double> distinct_values;   // float mode, ascending
  uint64_t bytes = 0;                    // of the tables compact_entries writes
  bool narrow = false;                   // int of 16 bits (PartsRule)
};

// The bytes of the tables compact_entries writes for `plan`: the entries and the distinct
// probabilities their values are ranks in.
uint64_t entries_table_bytes(const EntriesPlan& plan, const TreeProgram& program) {
  if (!plan.any) return 0;
  const bool fixed = program.numeric == Numeric::Fixed;
  const uint32_t entry_bits = plan.class_bits + plan.value_bits + (plan.ordered ? 0 : 1);
  uint64_t bytes =
      parts_bytes(plan.n_entries, column_parts(entry_bits, plan.n_entries, {plan.narrow, false}));
  if (fixed && plan.ranked) {
    bytes += plan.distinct_codes.size() * (program.proba_bits == 8 ? 1 : 2);
  } else if (!fixed) {
    bytes += plan.distinct_values.size() * 8;
  }
  return bytes;
}

EntriesPlan plan_entries(const TreeProgram& program, const LeafCoding& coding,
                         const PreOrder& order, bool coded, bool narrow_int) {
  const bool fixed = program.numeric == Numeric::Fixed;
  const uint32_t n_classes = program.n_classes;
  EntriesPlan plan;
  CompactLeaves& out = plan.leaves;
  out.n_refs = coding.n_refs;
  out.n_fixed = program.leaf_kind == LeafKind::Proba ? n_classes : 0;
  for (uint32_t leaf : order.leaf) out.ref.push_back(coding.id[leaf]);
  if (program.leaf_kind != LeafKind::Proba || coding.mixed.empty()) return plan;

  // The layout, tree by tree: mixed leaves (indices into coding.mixed; kSentinel: an entry that
  // ends the leaf before it, see below) in entry order. `ordered`: the leaves a tree adds are in
  // descending order of their first class, so that a leaf ends where the next entry's class is
  // not above its own (entries are in ascending class order within a leaf), with a sentinel
  // entry of class 0 where that does not hold and after the last leaf: no last-entry bit.
  const uint32_t window_bits = std::max<uint32_t>(8, bits_for(max_left_splits(order)));
  const uint64_t window = !coded                             ? ~0ull >> 2
                          : (1ull << window_bits) > n_classes ? (1ull << window_bits) - n_classes
                                                              : (1ull << window_bits);
  const auto entries_of = [&](uint32_t m) { return coding.start[m + 1] - coding.start[m]; };
  const auto n_trees = static_cast<uint32_t>(order.tree_first.size());
  struct Layout {
    std::vector<uint32_t> items;
    std::vector<uint64_t> ref;
    uint64_t n_entries = 0;
  };
  const auto lay_out = [&](bool ordered) {
    Layout lay;
    lay.ref = out.ref;
    if (!coded && !ordered) {
      // Each leaf once, in the order of coding.mixed.
      for (uint32_t m = 0; m < coding.mixed.size(); ++m) lay.items.push_back(m);
      for (uint64_t& ref : lay.ref) {
        if (ref >= n_classes) ref = n_classes + coding.start[ref - n_classes];
      }
      lay.n_entries = coding.start.back();
      return lay;
    }
    std::vector<int64_t> placed(coding.mixed.size(), -1);
    uint64_t end = 0;
    uint32_t last_class = 0;  // of the entry before `end`
    for (uint32_t t = 0; t < n_trees; ++t) {
      const uint32_t leaf_begin = order.tree_first[t] + t;
      const uint32_t leaf_end = (t + 1 < n_trees ? order.tree_first[t + 1]
                                                 : static_cast<uint32_t>(order.split.size())) +
                                t + 1;
      std::vector<uint32_t> used;  // distinct mixed leaves of tree t, in pre-order
      uint64_t total = 0;
      for (uint32_t l = leaf_begin; l < leaf_end; ++l) {
        const uint64_t ref = out.ref[l];
        if (ref < n_classes) continue;
        const auto m = static_cast<uint32_t>(ref - n_classes);
        if (std::find(used.begin(), used.end(), m) != used.end()) continue;
        used.push_back(m);
        total += entries_of(m) + (ordered ? 1 : 0);
      }
      // A leaf placed from `low` on is used again: the tree's entries then span less than
      // `window`.
      const int64_t low = static_cast<int64_t>(end + total) - static_cast<int64_t>(window);
      std::vector<uint32_t> added;
      for (uint32_t m : used) {
        if (placed[m] < 0 || placed[m] < low) added.push_back(m);
      }
      if (ordered) {
        std::stable_sort(added.begin(), added.end(), [&](uint32_t a, uint32_t b) {
          return coding.klass[coding.start[a]] > coding.klass[coding.start[b]];
        });
      }
      for (uint32_t m : added) {
        if (ordered && end != 0 && coding.klass[coding.start[m]] > last_class) {
          lay.items.push_back(kSentinel);
          ++end;
        }
        placed[m] = static_cast<int64_t>(end);
        lay.items.push_back(m);
        end += entries_of(m);
        last_class = coding.klass[coding.start[m + 1] - 1];
      }
      for (uint32_t l = leaf_begin; l < leaf_end; ++l) {
        if (out.ref[l] >= n_classes) {
          lay.ref[l] = n_classes + static_cast<uint64_t>(placed[out.ref[l] - n_classes]);
        }
      }
    }
    if (ordered) {
      lay.items.push_back(kSentinel);
      ++end;
    }
    lay.n_entries = end;
    return lay;
  };

  // The values: the probability itself (fixed mode), or its rank among the distinct ones.
  const uint32_t class_bits = bits_for(n_classes - 1);
  std::vector<uint64_t> distinct_codes(coding.code.begin(), coding.code.end());
  std::sort(distinct_codes.begin(), distinct_codes.end());
  distinct_codes.erase(std::unique(distinct_codes.begin(), distinct_codes.end()),
                       distinct_codes.end());
  std::vector<double> distinct_values = coding.value;
  std::sort(distinct_values.begin(), distinct_values.end());
  distinct_values.erase(std::unique(distinct_values.begin(), distinct_values.end()),
                        distinct_values.end());
  const uint32_t rank_bits =
      bits_for(std::max<std::size_t>(fixed ? distinct_codes.size() : distinct_values.size(), 1) - 1);
  const uint64_t code_bytes = program.proba_bits / 8;
  // Entries of `n` and the bits of a value: table bytes (the rank table's too).
  const auto entry_bytes = [&](uint64_t n, bool ranked, bool ordered) {
    const uint32_t bits = class_bits + (ranked ? rank_bits : program.proba_bits) + (ordered ? 0 : 1);
    return column_cost(n, bits, {narrow_int, false}) +
           (ranked ? distinct_codes.size() * code_bytes : 0);
  };
  const Layout with_bit = lay_out(false);
  const Layout by_class = lay_out(true);
  bool ranked = !fixed;
  bool ordered = false;
  if (fixed) {
    uint64_t best = ~0ull;
    for (int o = 0; o < 2; ++o) {
      for (int r = 1; r >= 0; --r) {
        const uint64_t bytes =
            entry_bytes((o != 0 ? by_class : with_bit).n_entries, r != 0, o != 0) + (o != 0 ? 8 : 0);
        if (bytes < best) {
          best = bytes;
          ordered = o != 0;
          ranked = r != 0;
        }
      }
    }
  } else {
    ordered = column_cost(by_class.n_entries, class_bits + rank_bits, {narrow_int, false}) + 8 <
              column_cost(with_bit.n_entries, class_bits + rank_bits + 1, {narrow_int, false});
  }
  const Layout& lay = ordered ? by_class : with_bit;
  out.ref = lay.ref;
  out.n_refs = n_classes + lay.n_entries;
  plan.any = true;
  plan.items = lay.items;
  plan.n_entries = lay.n_entries;
  plan.ordered = ordered;
  plan.ranked = ranked;
  plan.class_bits = class_bits;
  plan.value_bits = ranked ? rank_bits : program.proba_bits;
  plan.distinct_codes = std::move(distinct_codes);
  plan.distinct_values = std::move(distinct_values);
  plan.narrow = narrow_int;
  plan.bytes = entries_table_bytes(plan, program);
  return plan;
}

// The entries of `plan` (plan_entries): their tables, and in `add_mixed` the C that adds a
// mixed leaf. Nothing where the plan has no entries.
void compact_entries(const EmitContext& context, const TreeProgram& program,
                     const LeafCoding& coding, const EntriesPlan& plan, const std::string& acc_t,
                     FamilyCode& code, std::string* add_mixed) {
  if (!plan.any) return;
  const std::string& p = context.prefix;
  const bool fixed = program.numeric == Numeric::Fixed;
  const uint64_t n_entries = plan.n_entries;
  const bool ordered = plan.ordered;
  const bool ranked = plan.ranked;
  const uint32_t class_bits = plan.class_bits;
  const uint32_t value_bits = plan.value_bits;
  const std::vector<uint64_t>& distinct_codes = plan.distinct_codes;
  const std::vector<double>& distinct_values = plan.distinct_values;
  std::vector<uint64_t> entries;
  for (uint32_t m : plan.items) {
    if (m == kSentinel) {
      entries.push_back(0);
      continue;
    }
    for (uint64_t e = coding.start[m]; e < coding.start[m + 1]; ++e) {
      uint64_t value = 0;
      if (!fixed) {
        value = static_cast<uint64_t>(std::lower_bound(distinct_values.begin(),
                                                       distinct_values.end(), coding.value[e]) -
                                      distinct_values.begin());
      } else if (ranked) {
        value = static_cast<uint64_t>(std::lower_bound(distinct_codes.begin(),
                                                       distinct_codes.end(), coding.code[e]) -
                                      distinct_codes.begin());
      } else {
        value = coding.code[e];
      }
      uint64_t entry = coding.klass[e] | value << class_bits;
      if (!ordered && e + 1 == coding.start[m + 1]) entry |= 1ull << (class_bits + value_bits);
      entries.push_back(entry);
    }
  }
  MCUPORT_ASSERT(entries.size() == n_entries);
  const uint32_t last_shift = class_bits + value_bits;
  const std::string one = std::to_string(program.proba_code_one);
  const uint64_t max_entry = n_entries + 1;
  const std::string entry_idx_t = max_entry <= 0xffffu ? "uint_fast16_t" : "uint32_t";
  const Column entry_column = add_column(
      code, p + "_entry", entries, last_shift + (ordered ? 0 : 1), entry_idx_t,
      "mixed leaves' entries: bits 0-" + std::to_string(class_bits == 0 ? 0 : class_bits - 1) +
          " the class, then the " +
          (ranked ? "rank of the probability in " + p + "_entry_proba"
                  : "probability, " + one + " = 1.0 (rounded to nearest)") +
          (ordered ? "; a leaf's entries are in ascending class order and end before an entry "
                     "whose class is not above the last one's"
                   : ", then a bit set on a leaf's last entry"),
      {plan.narrow, false});
  // An entry's parts are read into `entry` (the part holding the class: the low one, or the only
  // one) and `entry_high`, and its fields taken from them (RecordFields).
  const ColumnParts parts = entry_column.parts;
  RecordFields fields{parts, last_shift + (ordered ? 0 : 1)};
  fields.shift_top_bit = !int_is_narrow(context);
  const bool two_parts = parts.low != 0 && parts.high != 0;
  const std::string entry_t = part_type(parts.low != 0 ? parts.low : parts.high);
  const std::string high_t = part_type(parts.high);
  const std::string read =
      parts.low != 0 ? entry_column.low("e", entry_t) : entry_column.high("e", entry_t);
  if (parts.low != 0) {
    fields.low = "entry";
    fields.high = "entry_high";
  } else {
    fields.high = "entry";
  }
  std::string value = fields.field(class_bits, value_bits);
  if (fixed && ranked) {
    const CType type = program.proba_bits == 8 ? CType{"uint8_t", 1} : CType{"uint16_t", 2};
    code.tables.add(type.name, type.bytes, p + "_entry_proba", integer_literals(distinct_codes),
                    "the distinct probabilities of the entries, ascending, " + one +
                        " = 1.0 (rounded to nearest)");
    value = p + "_entry_proba[" + RecordFields::strip_parentheses(value) + "]";
  } else if (!fixed) {
    code.tables.add("double", 8, p + "_entry_proba", double_literals(distinct_values),
                    "the distinct probabilities of the entries, ascending, float64 exactly as "
                    "scikit-learn's");
    value = p + "_entry_proba[" + RecordFields::strip_parentheses(value) + "]";
  }
  const std::string klass = fields.bare(0, class_bits);
  const std::string add = fixed ? "acc[" + klass + "] = (" + acc_t + ")(acc[" + klass + "] + (" +
                                      value + "));"
                                : "acc[" + klass + "] += " + value + ";";
  // The high part, where a field read here lies in it.
  const bool high_used = two_parts && fields.in_high(0, last_shift + (ordered ? 0 : 1));
  const std::string read_high =
      high_used ? "        const " + high_t + " entry_high = " + entry_column.high("e", high_t) +
                      ";\n"
                : std::string();
  *add_mixed = "/* Adds the mixed leaf whose first entry is e to the sums. */\nstatic inline void " +
               p + "_add_mixed(" + acc_t + " acc[], uint32_t first) {\n    " + entry_idx_t +
               " e = (" + entry_idx_t + ")first;\n";
  if (ordered) {
    // `next` is the next entry's part holding its class; where the class straddles the parts
    // (more classes than the low part holds), its upper bits are read from the next entry's
    // high part, at e (already the next entry's index there).
    RecordFields next = fields;
    next.low = "next";
    next.high = parts.low != 0 ? "(" + entry_column.high("e", high_t) + ")" : "next";
    *add_mixed += "    " + entry_t + " entry = " + read + ";\n    for (;;) {\n" + read_high +
                  "        " + entry_t + " next;\n        " + add + "\n        ++e;\n        next = " +
                  read + ";\n        if (" + next.field(0, class_bits) + " <= " + fields.field(0, class_bits) +
                  ") {\n            break;\n        }\n        entry = next;\n    }\n}\n\n";
  } else {
    *add_mixed += "    for (;;) {\n        const " + entry_t + " entry = " + read + ";\n" +
                  read_high + "        " + add + "\n        if (" + fields.bit_set(last_shift) +
                  ") {\n            break;\n        }\n        ++e;\n    }\n}\n\n";
  }
}

// The compact layout's two formats (0: counted leaves, 1: leaf codes in the records), planned
// (what each would write, and the bytes of its tables) so that only the one kept is written.
struct CompactPlans {
  DistinctThresholds distinct;  // shared by the two
  EntriesPlan entries[2];
  CountedPlan counted;
  CodedPlan coded;
  uint64_t bytes(int format) const {
    return entries[format].bytes + (format != 0 ? coded.bytes : counted.bytes);
  }
};

CompactPlans plan_compact(const TreeProgram& program, const LeafCoding& coding,
                          const PreOrder& order, bool narrow_int) {
  CompactPlans plans;
  plans.distinct = distinct_thresholds_of(program, order);
  plans.entries[0] = plan_entries(program, coding, order, false, narrow_int);
  plans.entries[1] = plan_entries(program, coding, order, true, narrow_int);
  plans.counted =
      plan_counted(program, order, plans.entries[0].leaves, plans.distinct, narrow_int);
  plans.coded = plan_coded(program, order, plans.entries[1].leaves, plans.distinct, narrow_int);
  return plans;
}

// Leaf codes when their tables and the code that decodes a leaf code (kCodedWalkBytes) take
// fewer bytes than the tables of counted leaves.
bool choose_coded(const CompactPlans& plans, const TreeProgram& program) {
  return plans.bytes(1) + kCodedWalkBytes[program.numeric == Numeric::Fixed ? 0 : 1] <
         plans.bytes(0);
}

// Writes format `format` of `plans`: its tables to `code` (plans.bytes(format) of them) and the
// C that adds a mixed leaf to `add_mixed` (where there are mixed leaves); returns
// {{p}}_find_leaf and the functions it calls.
std::string write_compact(const EmitContext& context, const TreeProgram& program,
                          const LeafCoding& coding, const PreOrder& order,
                          const CompactPlans& plans, int format, const std::string& acc_t,
                          FamilyCode& code, std::string* add_mixed) {
  const EntriesPlan& entries = plans.entries[format];
  compact_entries(context, program, coding, entries, acc_t, code, add_mixed);
  return format != 0 ? compact_find_leaf(context, program, order, entries.leaves,
                                         plans.distinct, plans.coded, code)
                     : compact_find_leaf_counted(context, program, order, entries.leaves,
                                                 plans.distinct, plans.counted, code);
}

const char* kAddLeaf = R"(/* Adds one tree's leaf to the per-class sums. */
static inline void {{p}}_add_leaf({{acc_t}} acc[], uint32_t leaf) {
{{add}}}

)";

const char* kAccumulate = R"(/* {{acc_doc}} */
static {{accumulate_inline}}void {{p}}_accumulate(const {{xt}} x[], {{acc_t}} acc[]) {
{{locals}}{{zero_acc}}{{walk}}{{finish}}}

/* The class index with the largest sum; ties go to the lowest index, as numpy's argmax. */
static inline int32_t {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    {{acc_t}} acc[{{P}}_N_CLASSES];
{{argmax}}}

/* {{proba_doc}} */
static inline void {{p}}_predict_proba(const {{xt}} {{xin}}[], {{out_t}} out[]) {
{{stage}}    {{acc_t}} acc[{{P}}_N_CLASSES];
    uint32_t c;
    {{p}}_accumulate(x, acc);
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] = {{proba_expr}};
    }
}

)";

const char* kOneSum = R"(/* {{acc_doc}} */
static {{acc_t}} {{p}}_accumulate(const {{xt}} x[]) {
    {{acc_t}} s = 0u;
{{locals}}{{walk}}    return s;
}

/* Class 1 if its sum is the larger; a tie goes to class 0, as numpy's argmax. */
static inline int32_t {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    const uint32_t s = {{p}}_accumulate(x);
    return (int32_t)(s > {{total}} - s);
}

/* {{proba_doc}} */
static inline void {{p}}_predict_proba(const {{xt}} {{xin}}[], {{out_t}} out[]) {
{{stage}}    const uint32_t s = {{p}}_accumulate(x);
    out[0] = {{proba0}};
    out[1] = {{proba1}};
}

)";

const char* kSingleTreeClassifier = R"(/* The class index of the leaf that x reaches. */
static inline int32_t {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    return (int32_t){{class_expr}};
}

/* {{proba_doc}} */
static inline void {{p}}_predict_proba(const {{xt}} {{xin}}[], {{out_t}} out[]) {
{{stage}}    const uint32_t leaf = {{leaf0}};
    uint32_t c;
    for (c = 0u; c < {{P}}_N_CLASSES; ++c) {
        out[c] = {{proba_expr}};
    }
}

)";

const char* kRegressor = R"(/* {{doc}} */
static inline {{out_t}} {{p}}_predict(const {{xt}} {{xin}}[]) {
{{stage}}    {{acc_t}} acc = {{zero}};
{{locals}}{{walk}}    return acc;
}

)";

const char* kDequantizeOutput = R"(/* The real value of a prediction: y * 2^-{{P}}_OUTPUT_FRAC_BITS. */
static inline float {{p}}_dequantize_output(int32_t y) {
    return (float)y * {{P}}_OUTPUT_SCALE;
}

)";

std::string leaf_kind_text(LeafKind kind) {
  switch (kind) {
    case LeafKind::ClassVote: return "every leaf is pure, so a leaf is a class vote";
    case LeafKind::ClassAndProba: return "leaves hold a class and class probabilities";
    case LeafKind::Proba: return "leaves hold class probabilities, averaged over the trees";
    case LeafKind::Value: return "leaves hold values, averaged over the trees";
  }
  return "";
}

// What a split of fast code takes on the target in the program's numeric mode, measured
// (Target::FastSplitBytes): the least, what port() refuses by, and the typical, what the default
// layout decides by.
const FastSplitBytes& fast_split_bytes(const Target& target, Numeric numeric) {
  return numeric == Numeric::Fixed ? target.fast_split_bytes_fixed : target.fast_split_bytes_float;
}

TreeLayout choose_layout(const EmitContext& context, const TreeProgram& program) {
  if (context.layout) return *context.layout;
  const uint64_t flash = context.target.flash_bytes;
  if (program.n_splits() > kFastMaxSplits) return TreeLayout::Compact;
  // Fast while its code, at the typical bytes a split, takes at most a quarter of the flash.
  const uint64_t typical = uint64_t{fast_split_bytes(context.target, program.numeric).typical} *
                           program.n_splits();
  if (flash != 0 && typical > flash / 4) return TreeLayout::Compact;
  return TreeLayout::Fast;
}

}  // namespace

FamilyCode emit_trees(const EmitContext& context, const TreeProgram& program) {
  FamilyCode code;
  const std::string& p = context.prefix;
  const bool fixed = program.numeric == Numeric::Fixed;
  const bool classifier = program.task == Task::Classification;
  const uint32_t n_splits = program.n_splits();
  const TreeLayout layout = choose_layout(context, program);
  code.layout = layout;
  const bool fast = layout == TreeLayout::Fast;
  if (fast) {
    // A floor from measurements, so that port() refuses only a model that would not fit at any
    // density measured; the target's linker has the last word on one that passes.
    const uint32_t per_split = fast_split_bytes(context.target, program.numeric).least;
    code.code_bytes_at_least = uint64_t{per_split} * n_splits;
    code.code_size_advice =
        "the fast layout's code for " + std::to_string(n_splits) + " split nodes takes at least " +
        std::to_string(code.code_bytes_at_least) + " bytes (at least " + std::to_string(per_split) +
        " a split on " + context.target.name +
        "); use layout=\"compact\" (packed tables, about 4 bytes a split) or a smaller model";
  }
  // One tree's leaf decides alone: a decision tree, or a vote forest of one tree. A forest of
  // one tree with probability leaves still averages (argmax of probabilities, not weights).
  const bool single = classifier && (program.leaf_kind == LeafKind::ClassAndProba ||
                                     (program.leaf_kind == LeafKind::ClassVote && program.n_trees == 1));
  const bool accumulating = classifier && !single;
  const bool votes = program.leaf_kind == LeafKind::ClassVote;
  const bool integer = votes || fixed;  // the sums are integers
  // Fast code with integer sums adds small mixed leaves inline (how small: the target's
  // inline_leaf_entries; all of them with two classes, where a leaf is one add to one sum).
  const bool inline_leaves = fast && accumulating && integer;
  const uint32_t inline_entries = !inline_leaves              ? 0
                                  : program.n_classes == 2 ? program.n_classes
                                                           : context.target.inline_leaf_entries;
  const LeafCoding coding = leaf_coding(program, layout, inline_entries);
  const std::string ref_type = unsigned_type_for(std::max<uint64_t>(coding.n_refs, 1) - 1).name;

  // Classifiers that sum their trees: the sums' type and how one leaf is added. A pure leaf adds
  // one (1.0) to its class; a mixed leaf adds its row or its entries ({{p}}_add_mixed).
  const CType acc_type = unsigned_type_for(program.accumulator_bound);
  const std::string acc_t = !accumulating ? ""
                            : integer     ? std::string(acc_type.bytes < 2 ? "uint16_t" : acc_type.name)
                                          : "double";
  // The statement adding `value` to class `index`.
  const auto add_to = [&](const std::string& index, const std::string& value) {
    return integer ? "acc[" + index + "] = (" + acc_t + ")(acc[" + index + "] + " + value + ");"
                   : "acc[" + index + "] += " + value + ";";
  };
  const std::string leaf_one = votes   ? "1u"
                               : fixed ? std::to_string(program.proba_code_one) + "u"
                                       : "1.0";  // what a pure leaf adds
  // Fast code with integer sums writes a leaf's adds out where the leaf is reached (a mixed leaf
  // with a table row calls {{p}}_add_mixed). With two classes it keeps one sum, class 1's (see
  // kOneSum), and every leaf is written out.
  const bool one_sum = inline_leaves && program.n_classes == 2;
  // Fast code whose leaves are all written out keeps the sums in locals where the target has
  // the registers for them (Target::register_sums), in groups of kFastSplitsPerFunction splits.
  // Not in a larger forest's smaller groups (kFastSplitsPerFunctionLarge): a group is then
  // about one tree, whose one leaf does not pay for loading and storing the sums (the 200-tree
  // digits forest on Cortex-M4F: 6,019 -> 7,939 instructions and 383 -> 570 KB with them).
  const bool register_sums = inline_leaves && !one_sum && coding.mixed.empty() &&
                             program.n_classes <= context.target.register_sums &&
                             program.n_splits() <= kFastMaxSplits;
  // The nonzero (class, code) entries of leaf reference `ref` (fixed mode, Proba).
  const auto leaf_entries = [&](uint32_t ref) {
    std::vector<std::pair<uint32_t, uint32_t>> entries;
    if (votes || ref < program.n_classes) {
      entries.emplace_back(ref, votes ? 1u : program.proba_code_one);
      return entries;
    }
    const uint32_t leaf = coding.inlined.at(ref - program.n_classes - coding.mixed.size());
    for (uint32_t c = 0; c < program.n_classes; ++c) {
      const uint32_t value = program.leaf_proba_code[std::size_t{leaf} * program.n_classes + c];
      if (value != 0) entries.emplace_back(c, value);
    }
    return entries;
  };
  std::string add;
  std::string add_mixed;
  if (accumulating) {
    if (votes || coding.mixed.empty()) {
      add = "    " + add_to("leaf", leaf_one) + "\n";
    } else {
      add = "    if (leaf < " + context.macro + "_N_CLASSES) {\n        " +
            add_to("leaf", leaf_one) + "\n    } else {\n        " + p +
            "_add_mixed(acc, leaf - " + context.macro + "_N_CLASSES);\n    }\n";
      add_mixed = "/* Adds mixed leaf n_classes + row to the sums (a function of its own: fast code\n"
                  " * calls it from many leaves). */\nstatic " + context.macro +
                  "_NOINLINE void " + p + "_add_mixed(" + acc_t + " acc[], uint32_t row) {\n";
      if (coding.sparse) {
        const std::string start = "(uint32_t)" + p + "_mixed_start[";
        add_mixed += "    uint32_t e;\n    const uint32_t end = " + start + "row + 1u];\n    for (e = " +
                     start + "row]; e < end; ++e) {\n        " +
                     add_to(p + "_entry_class[e]", p + "_entry_proba[e]") + "\n    }\n}\n\n";
      } else {
        add_mixed += "    uint32_t c;\n    for (c = 0u; c < " + context.macro +
                     "_N_CLASSES; ++c) {\n        " +
                     add_to("c", p + "_mixed_proba[row][c]") + "\n    }\n}\n\n";
      }
    }
  }

  // Compact code: mixed leaves as entry lists (compact_entries), with their own add_mixed.
  std::string compact_walk;  // {{p}}_find_leaf and the functions it calls
  if (!fast) {
    std::string compact_add_mixed;
    const PreOrder order = pre_order(program);
    // The two compact formats, leaf codes in the records or counted leaves: the one of the
    // fewer table and code bytes, both planned and counted (plan_compact), the one kept written.
    // No table is written before these: they come first, as they did when both were written.
    MCUPORT_ASSERT(code.tables.tables().empty());
    const CompactPlans plans = plan_compact(program, coding, order, int_is_narrow(context));
    compact_walk = write_compact(context, program, coding, order, plans,
                                 choose_coded(plans, program) ? 1 : 0, acc_t, code,
                                 &compact_add_mixed);
    if (!add_mixed.empty()) add_mixed = compact_add_mixed;
  }

  // The walk. Fast code adds each leaf where it is reached, in one body for all trees (summing
  // classifiers, regressors), or returns it (a single tree); compact code walks tables.
  std::string walk_functions;
  std::string fast_walk;
  FastWalk barriers;  // which barrier macros the fast walk uses
  bool sums_start_here = false;   // register sums that start at zero in the walking function
  bool opaque_zero_sums = false;  // ... through {{P}}_OPAQUE (kOpaqueSumsMinCopies)
  if (one_sum) {
    // A leaf adds its class-1 code to the one sum (a class-0 leaf adds nothing).
    const FastWalk w = fast_tree_blocks(
        context, program, coding.id, acc_t + " *acc", "&s", [&](uint32_t ref, bool grouped) {
          std::string statement;
          for (const auto& [c, value] : leaf_entries(ref)) {
            if (c != 1) continue;
            const std::string v = std::to_string(value) + "u";
            statement = grouped ? "*acc = (" + acc_t + ")(*acc + " + v + ");"
                                : "s = (" + acc_t + ")(s + " + v + ");";
          }
          return statement;
        });
    walk_functions = w.functions;
    fast_walk = w.walk;
    barriers = w;
  } else if (inline_leaves) {
    // Every leaf's nonzero entries are added where the leaf is reached (compilers merge a
    // tree's leaves that add the same), to acc[] or, where the target keeps them in registers,
    // to the locals s<c>, which each group function loads from acc[] and stores back.
    std::string enter;
    std::string leave;
    if (register_sums) {
      for (uint32_t c = 0; c < program.n_classes; ++c) {
        const std::string i = std::to_string(c);
        enter += "    " + acc_t + " s" + i + " = acc[" + i + "];\n";
        leave += "    acc[" + i + "] = s" + i + ";\n";
      }
    }
    const FastWalk w = fast_tree_blocks(
        context, program, coding.id, acc_t + " acc[]", "acc",
        [&](uint32_t ref, bool) {
          if (ref >= program.n_classes && ref < program.n_classes + coding.mixed.size()) {
            return p + "_add_mixed(acc, " + std::to_string(ref - program.n_classes) + "u);";
          }
          std::string statement;
          for (const auto& [c, value] : leaf_entries(ref)) {
            if (!statement.empty()) statement += " ";
            const std::string i = std::to_string(c);
            const std::string v = std::to_string(value) + "u";
            statement += register_sums ? "s" + i + " = (" + acc_t + ")(s" + i + " + " + v + ");"
                                       : add_to(i + "u", v);
          }
          return statement;
        },
        enter, leave);
    walk_functions = w.functions;
    fast_walk = w.walk;
    barriers = w;
    // One function: its sums start at zero in their locals, in a large first tree through
    // {{P}}_OPAQUE (see opaque_zero_sums).
    sums_start_here = register_sums && walk_functions.empty();
    if (sums_start_here) {
      uint32_t first_leaves = 0;
      for_each_node_of_tree(program, 0, [](uint32_t) {}, [&](uint32_t) { ++first_leaves; });
      opaque_zero_sums = uint64_t{first_leaves} * program.n_classes >= kOpaqueSumsMinCopies;
    }
  } else if (fast && accumulating) {
    // A pure leaf's add is written out (compilers merge a tree's leaves of one class); a mixed
    // leaf calls {{p}}_add_mixed.
    const FastWalk w = fast_tree_blocks(
        context, program, coding.id, acc_t + " acc[]", "acc", [&](uint32_t ref, bool) {
          if (votes || ref < program.n_classes) return add_to(std::to_string(ref) + "u", leaf_one);
          return p + "_add_mixed(acc, " + std::to_string(ref - program.n_classes) + "u);";
        });
    walk_functions = w.functions;
    fast_walk = w.walk;
    barriers = w;
  } else if (fast && !classifier) {
    // A leaf adds its value (pre-divided by the tree count) as a constant: no leaf table.
    const std::string value_t = fixed ? "int32_t" : "float";
    const FastWalk w = fast_tree_blocks(
        context, program, coding.id, value_t + " *acc", "&acc", [&](uint32_t ref, bool grouped) {
          return std::string(grouped ? "*acc += " : "acc += ") +
                 (fixed ? integer_literals(std::vector<int32_t>{program.leaf_value_code[ref]})[0]
                        : float_literal(program.leaf_value_float[ref])) +
                 ";";
        });
    walk_functions = w.functions;
    fast_walk = w.walk;
    barriers = w;
  } else if (fast) {
    // No NOINLINE for the one tree: a firmware that calls only predict (or only predict_proba)
    // gets the branches inlined into it, without a call, a return and a result to move; gcc
    // keeps one copy when both are called.
    walk_functions = "static " + ref_type + " " + p + "_tree_0(const " + context.input_type() +
                     " x[]) {\n";
    if (program.roots[0] >= n_splits) walk_functions += "    (void)x;\n";
    walk_functions += fast_tree_code(context, program, 0, coding.id, "n", [](uint32_t ref) {
      return "return " + std::to_string(ref) + "u;";
    });
    walk_functions += "}\n\n";
  } else {
    walk_functions = compact_walk;
  }
  // The C expression of tree t's leaf reference (t: "0", or "t" in a loop).
  const auto leaf_of = [&](const std::string& t) {
    return fast ? p + "_tree_" + t + "(x)" : p + "_find_leaf(" + t + ", x)";
  };
  // Compact code: `stmt`, with LEAF replaced by the tree's leaf, in a loop over the trees.
  const auto for_each_tree = [&](const std::string& stmt) {
    std::string line = stmt;
    line.replace(line.find("LEAF"), 4, leaf_of("t"));
    return "    for (t = 0u; t < " + context.macro + "_N_TREES; ++t) {\n        " + line +
           "\n    }\n";
  };
  const std::string loop_locals = fast ? "" : "    uint32_t t;\n";

  const std::size_t n_leaves = program.n_leaves;
  const std::size_t n_classes = program.n_classes;
  // Fixed mode: the type of a leaf probability code, and the code of 1.0.
  const CType proba_type = program.proba_bits == 8 ? CType{"uint8_t", 1} : CType{"uint16_t", 2};
  const std::string one_text = std::to_string(program.proba_code_one);
  switch (program.leaf_kind) {
    case LeafKind::ClassVote:
      break;  // a leaf is its class index
    case LeafKind::ClassAndProba: {
      const CType class_type = unsigned_type_for(n_classes - 1);
      code.tables.add(class_type.name, class_type.bytes, p + "_leaf_class",
                      integer_literals(program.leaf_class), "leaves: the class each predicts");
    }
      [[fallthrough]];
    case LeafKind::Proba:
      if (program.leaf_kind == LeafKind::ClassAndProba) {
        if (fixed) {
          const bool narrow = program.proba_bits == 8;
          code.tables.add_2d(narrow ? "uint8_t" : "uint16_t", narrow ? 1 : 2, p + "_leaf_proba",
                             n_leaves, n_classes, integer_literals(program.leaf_proba_code),
                             "leaves: class probabilities, " +
                                 std::to_string(program.proba_code_one) +
                                 " = 1.0 (rounded to nearest)");
        } else {
          const std::vector<float> proba(program.leaf_proba_float.begin(),
                                         program.leaf_proba_float.end());
          code.tables.add_2d("float", 4, p + "_leaf_proba", n_leaves, n_classes,
                             float_literals(proba), "leaves: class probabilities");
        }
      } else if (coding.mixed.empty()) {
        // Every leaf is pure (its reference is its class) or added inline by fast code.
      } else if (!fast) {
        // compact_entries added the entries.
      } else if (coding.sparse) {
        const CType start_type = unsigned_type_for(coding.klass.size());
        code.tables.add(start_type.name, start_type.bytes, p + "_mixed_start",
                        integer_literals(coding.start),
                        "mixed leaves: leaf n_classes + i has entries [start[i], start[i + 1])");
        const CType class_type = unsigned_type_for(n_classes - 1);
        code.tables.add(class_type.name, class_type.bytes, p + "_entry_class",
                        integer_literals(coding.klass),
                        "entries: the class of each nonzero probability of a mixed leaf");
        if (fixed) {
          code.tables.add(proba_type.name, proba_type.bytes, p + "_entry_proba",
                          integer_literals(coding.code),
                          "entries: the probability, " + one_text + " = 1.0 (rounded to nearest)");
        } else {
          code.tables.add("double", 8, p + "_entry_proba", double_literals(coding.value),
                          "entries: the probability, float64 exactly as scikit-learn's");
        }
      } else {
        std::vector<std::string> rows;
        for (uint32_t leaf : coding.mixed) {
          for (std::size_t c = 0; c < n_classes; ++c) {
            const std::size_t i = leaf * n_classes + c;
            rows.push_back(fixed ? std::to_string(program.leaf_proba_code[i])
                                 : double_literals({program.leaf_proba_float[i]})[0]);
          }
        }
        code.tables.add_2d(fixed ? proba_type.name : "double", fixed ? proba_type.bytes : 8,
                           p + "_mixed_proba", coding.mixed.size(), n_classes, rows,
                           fixed ? "mixed leaves: class probabilities of leaf n_classes + i, " +
                                       one_text + " = 1.0 (rounded to nearest)"
                                 : "mixed leaves: class probabilities of leaf n_classes + i, "
                                   "float64 exactly as scikit-learn's");
      }
      break;
    case LeafKind::Value:
      if (fast) {
        // the leaves are constants in the code
      } else if (fixed) {
        code.tables.add("int32_t", 4, p + "_leaf_value", integer_literals(program.leaf_value_code),
                        "leaves: value / n_trees * 2^" + std::to_string(program.value_frac_bits) +
                            ", rounded to nearest");
      } else {
        code.tables.add("float", 4, p + "_leaf_value", float_literals(program.leaf_value_float),
                        program.n_trees == 1 ? "leaves: values" : "leaves: value / n_trees");
      }
      break;
  }

  // Macros.
  code.macros += "#define " + context.macro + "_N_TREES " + std::to_string(program.n_trees) + "\n";
  {
    // NOINLINE: a function that should stay one function (a group of a large forest's trees, the
    // mixed leaves' adds). NEXT_TREE and KEEP: see fast_tree_blocks. Each macro is defined only
    // where the code uses it.
    const std::string P = context.macro;
    const bool noinline = walk_functions.find(P + "_NOINLINE") != std::string::npos ||
                          add_mixed.find(P + "_NOINLINE") != std::string::npos;
    if (noinline || barriers.next_tree || barriers.keep || opaque_zero_sums) {
      code.macros += "#if defined(__GNUC__) || defined(__clang__)\n";
      if (noinline) code.macros += "#define " + P + "_NOINLINE __attribute__((noinline))\n";
      if (barriers.next_tree) {
        code.macros +=
            "#define " + P + "_NEXT_TREE() __asm__ __volatile__(\"\" ::: \"memory\")\n";
      }
      if (barriers.keep) {
        code.macros += "#define " + P + "_KEEP(v) __asm__ __volatile__(\"\" : \"+r\"(v))\n";
      }
      if (opaque_zero_sums) {
        // Not volatile: only the value is hidden, and compilers may place the statement freely.
        code.macros += "#define " + P + "_OPAQUE(v) __asm__(\"\" : \"+r\"(v))\n";
      }
      code.macros += "#else\n";
      if (noinline) code.macros += "#define " + P + "_NOINLINE\n";
      if (barriers.next_tree) code.macros += "#define " + P + "_NEXT_TREE() ((void)0)\n";
      if (barriers.keep) code.macros += "#define " + P + "_KEEP(v) ((void)0)\n";
      if (opaque_zero_sums) code.macros += "#define " + P + "_OPAQUE(v) ((void)0)\n";
      code.macros += "#endif\n";
    }
  }
  code.macros += "#define " + context.macro + "_N_SPLITS " + std::to_string(n_splits) + "u\n";
  if (classifier) {
    code.macros += "#define " + context.macro + "_N_CLASSES " + std::to_string(n_classes) + "\n";
  }
  if (classifier && fixed) {
    code.macros += "#define " + context.macro + "_PROBA_ONE " +
                   std::to_string(program.proba_one) + " /* predict_proba's integer for 1.0 */\n";
  }
  if (!classifier && fixed) {
    code.macros += "#define " + context.macro + "_OUTPUT_FRAC_BITS " +
                   std::to_string(program.value_frac_bits) + "\n";
    code.macros += "#define " + context.macro + "_OUTPUT_SCALE " +
                   rounded_float_literal(std::ldexp(1.0, -program.value_frac_bits), "/params/trees") +
                   " /* real value = output * this */\n";
  }

  // Summary for the header comment.
  code.summary = " * " + std::to_string(program.n_trees) + (program.n_trees == 1 ? " tree, " : " trees, ") +
                 std::to_string(n_splits) + " split nodes, " + std::to_string(n_leaves) +
                 " distinct leaves, at most " + std::to_string(program.max_depth) +
                 " splits per tree and prediction;\n * " + leaf_kind_text(program.leaf_kind) +
                 ".\n";
  code.summary += fast ? " * Layout: fast (each tree as straight-line compares and jumps).\n"
                       : " * Layout: compact (packed split nodes walked by one loop).\n";
  if (!fixed && program.leaf_kind == LeafKind::Proba) {
    code.summary += " * The probabilities are averaged in float64, in tree order, as scikit-learn does:\n"
                    " * exact ties between classes are common and only that arithmetic breaks them alike.\n";
  }
  if (fixed && (program.leaf_kind == LeafKind::Proba || program.leaf_kind == LeafKind::ClassAndProba)) {
    // docs/fixed-point.md, "Tree leaf probabilities": each leaf's code within 0.5 of p M.
    const std::string m = std::to_string(proba_one_code(program.proba_bits));
    code.summary += " * Leaf probabilities as " + std::to_string(program.proba_bits) +
                    "-bit codes, " + m + " for 1: every probability within 0.5/" + m +
                    " of\n * scikit-learn's" +
                    (program.leaf_kind == LeafKind::Proba
                         ? ", and a class other than scikit-learn's only where its top two classes\n"
                           " * are within 1/" + m + ".\n"
                         : "; predict answers the leaf's class, exactly scikit-learn's.\n");
  }
  if (fixed && program.folded_splits > 0) {
    code.summary += " * Folded away: " + std::to_string(program.folded_splits) +
                    " split(s) deciding the same way for every int16 input.\n";
  }

  // Functions.
  code.functions += add_mixed;
  if (accumulating && !fast) {
    code.functions += context.render(kAddLeaf, {{"acc_t", acc_t}, {"add", add}});
  }
  code.functions += walk_functions;
  const std::string xt = context.input_type();
  code.scores.predict_type = classifier || fixed ? "int32_t" : "float";
  if (classifier) {
    const std::string out_t = fixed ? "int32_t" : "float";
    code.scores = {"int32_t", p + "_predict_proba", program.n_classes, out_t};
    const std::string proba_doc =
        fixed ? "Class probabilities as integers: out[c] / " + context.macro +
                    "_PROBA_ONE approximates scikit-learn's predict_proba."
              : "Class probabilities, as scikit-learn's predict_proba.";
    code.api += " *   int32_t " + p + "_predict(const " + xt + " x[]);   class index\n";
    code.api += " *   void " + p + "_predict_proba(const " + xt + " x[], " + out_t + " out[" +
                context.macro + "_N_CLASSES]);\n";
    const std::string leaf0 = fast ? leaf_of("0") : leaf_of("0u");
    if (single) {
      std::string class_expr;
      std::string proba_expr;
      const std::string one = fixed ? context.macro + "_PROBA_ONE" : "1.0f";
      const std::string zero = fixed ? "0" : "0.0f";
      if (program.leaf_kind == LeafKind::ClassVote) {
        class_expr = leaf0;
        proba_expr = "(c == leaf) ? " + one + " : " + zero;
      } else {
        class_expr = p + "_leaf_class[" + leaf0 + "]";
        proba_expr = fixed ? "(int32_t)" + p + "_leaf_proba[leaf][c]" : p + "_leaf_proba[leaf][c]";
      }
      code.functions += context.render(kSingleTreeClassifier,
                                       (TemplateValues{{"class_expr", class_expr},
                                                       {"proba_expr", proba_expr},
                                                       {"proba_doc", proba_doc},
                                                       {"leaf0", leaf0},
                                                       {"out_t", out_t}}));
    } else if (one_sum) {
      const std::string total = std::to_string(program.proba_one) + "u";
      const std::string what =
          votes ? "votes"
                : "probability codes (" + std::to_string(program.proba_code_one) + " = 1.0)";
      std::string proba0 = "(" + out_t + ")(" + total + " - s)";
      std::string proba1 = "(" + out_t + ")s";
      if (!fixed) {  // a vote forest in float mode: the vote fractions
        proba0 = "(float)(" + total + " - s) / (float)" + context.macro + "_N_TREES";
        proba1 = "(float)s / (float)" + context.macro + "_N_TREES";
      }
      code.functions += context.render(
          kOneSum,
          (TemplateValues{{"acc_doc", "Sums class 1's " + what + " over the trees (at most " +
                                          std::to_string(program.accumulator_bound) + ", which " +
                                          acc_t + " holds). Class 0's sum is " + total +
                                          " less it:\n * every leaf's two codes add up to one."},
                          {"acc_t", acc_t},
                          {"locals", barriers.locals},
                          {"walk", fast_walk},
                          {"total", total},
                          {"proba_doc", proba_doc},
                          {"proba0", proba0},
                          {"proba1", proba1},
                          {"out_t", out_t}}));
    } else {
      std::string acc_doc;
      std::string finish;
      std::string proba_expr;
      if (acc_t != "double") {
        acc_doc = std::string("Sums the trees' ") + (votes ? "votes" : "class probabilities") +
                  " per class into acc[] (at most " + std::to_string(program.accumulator_bound) +
                  ", which " + acc_t + " holds).";
        proba_expr = fixed ? "(int32_t)acc[c]"
                           : "(float)acc[c] / (float)" + context.macro + "_N_TREES";
      } else {
        // scikit-learn adds the trees' float64 probabilities in tree order and divides by the
        // tree count before its argmax; exact ties are common, and only the same arithmetic
        // breaks them the same way.
        acc_doc =
            "The trees' class probabilities averaged in float64, in tree order, exactly as\n"
            " * scikit-learn's predict_proba computes them (so that ties break the same way).";
        finish = "    for (c = 0u; c < " + context.macro + "_N_CLASSES; ++c) {\n        acc[c] /= (double)" +
                 context.macro + "_N_TREES;\n    }\n";
        proba_expr = "(float)acc[c]";
      }
      const std::string walk = fast ? fast_walk : for_each_tree(p + "_add_leaf(acc, LEAF);");
      // Up to 16 classes, the sums are zeroed and compared written out: a call to memset and a
      // loop reloading acc[best] cost more than the code they save.
      const std::string zero = acc_t == "double" ? "0.0" : "0u";
      std::string zero_acc;
      std::string argmax;
      if (n_classes == 1) {  // fitted on one class: its index, after the walk
        zero_acc = "    acc[0] = " + zero + ";\n";
        argmax = "    " + p + "_accumulate(x, acc);\n    return 0;\n";
      } else if (n_classes <= 16) {
        for (std::size_t c = 0; c < n_classes; ++c) {
          zero_acc += "    acc[" + std::to_string(c) + "] = " + zero + ";\n";
        }
        argmax = "    uint32_t best = 0u;\n    " + acc_t + " top;\n    " + p +
                 "_accumulate(x, acc);\n    top = acc[0];\n";
        for (std::size_t c = 1; c < n_classes; ++c) {
          const std::string i = std::to_string(c);
          argmax += "    if (acc[" + i + "] > top) {\n        " +
                    (c + 1 < n_classes ? "top = acc[" + i + "];\n        " : "") + "best = " +
                    i + "u;\n    }\n";
        }
        argmax += "    return (int32_t)best;\n";
      } else {
        zero_acc = "    for (c = 0u; c < " + context.macro + "_N_CLASSES; ++c) {\n        acc[c] = " +
                   zero + ";\n    }\n";
        argmax = "    uint32_t c;\n    uint32_t best = 0u;\n    " + p +
                 "_accumulate(x, acc);\n    for (c = 1u; c < " + context.macro +
                 "_N_CLASSES; ++c) {\n        if (acc[c] > acc[best]) {\n            best = c;\n"
                 "        }\n    }\n    return (int32_t)best;\n";
      }
      const bool loop_c = n_classes > 16 || !finish.empty();
      std::string sum_locals;
      if (sums_start_here) {
        // One function: the sums start at zero in their locals and are stored once at the end
        // (through {{P}}_OPAQUE where opaque_zero_sums).
        zero_acc.clear();
        for (std::size_t c = 0; c < n_classes; ++c) {
          const std::string i = std::to_string(c);
          sum_locals += "    " + acc_t + " s" + i + " = " + zero + ";\n";
          if (opaque_zero_sums) zero_acc += "    " + context.macro + "_OPAQUE(s" + i + ");\n";
          finish += "    acc[" + i + "] = s" + i + ";\n";
        }
      }
      code.functions += context.render(
          kAccumulate,
          (TemplateValues{{"acc_doc", acc_doc},
                          {"zero_acc", zero_acc},
                          {"argmax", argmax},
                          {"accumulate_inline", fast ? "" : "inline "},
                          {"acc_t", acc_t},
                          {"locals", sum_locals + loop_locals + barriers.locals +
                                         (loop_c ? "    uint32_t c;\n" : "")},
                          {"walk", walk},
                          {"finish", finish},
                          {"proba_doc", proba_doc},
                          {"proba_expr", proba_expr},
                          {"out_t", out_t}}));
    }
  } else {
    const std::string walk =
        fast ? fast_walk : for_each_tree("acc += " + p + "_leaf_value[LEAF];");
    if (fixed) {
      code.api += " *   int32_t " + p + "_predict(const int16_t x[]);   value * 2^" +
                  context.macro + "_OUTPUT_FRAC_BITS\n";
      code.api += " *   float " + p + "_dequantize_output(int32_t y);   convenience, floating point\n";
      code.summary += " * Output: the mean of the trees' values * 2^" +
                      std::to_string(program.value_frac_bits) + " as an int32 (|sum| <= " +
                      std::to_string(program.accumulator_bound) +
                      "); error against the exact mean at most " +
                      format_bound(program.value_error_bound, 3) + ".\n";
      code.functions += context.render(
          kRegressor,
          (TemplateValues{{"doc", "The prediction * 2^" + context.macro +
                                      "_OUTPUT_FRAC_BITS (leaves are pre-divided by the tree count)."},
                          {"out_t", "int32_t"},
                          {"acc_t", "int32_t"},
                          {"zero", "0"},
                          {"locals", loop_locals + barriers.locals},
                          {"walk", walk}}));
      code.functions += context.render(kDequantizeOutput);
    } else {
      code.api += " *   float " + p + "_predict(const float x[]);   the predicted value\n";
      code.functions += context.render(
          kRegressor,
          (TemplateValues{{"doc", "The mean of the trees' values, as scikit-learn's predict (leaves "
                                          "are pre-divided by the tree count)."},
                          {"out_t", "float"},
                          {"acc_t", "float"},
                          {"zero", "0.0f"},
                          {"locals", loop_locals + barriers.locals},
                          {"walk", walk}}));
    }
  }
  return code;
}

CompactFormatBytes compact_format_bytes(const EmitContext& context, const TreeProgram& program) {
  // As emit_trees codes the leaves for the compact layout (no leaf is added inline).
  const LeafCoding coding = leaf_coding(program, TreeLayout::Compact, 0);
  const PreOrder order = pre_order(program);
  const CompactPlans plans = plan_compact(program, coding, order, int_is_narrow(context));
  CompactFormatBytes out;
  out.coded = choose_coded(plans, program);
  out.threshold_first[0] = plans.counted.head.threshold_first;
  out.threshold_first[1] = plans.coded.head.threshold_first;
  out.low16[0] = plans.counted.parts_rule.low16;
  out.low16[1] = plans.coded.parts_rule.low16;
  for (int format = 0; format < 2; ++format) {
    FamilyCode scratch;
    std::string add_mixed;
    // The sums' type is text only; it does not change a table.
    write_compact(context, program, coding, order, plans, format, "uint32_t", scratch,
                  &add_mixed);
    out.predicted[format] = plans.bytes(format);
    out.written[format] = scratch.tables.bytes();
  }
  return out;
}

}  // namespace mcuport::codegen
