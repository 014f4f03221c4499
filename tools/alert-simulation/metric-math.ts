/**
 * The part of CloudWatch metric math the stack's alarms use, evaluated on one datapoint per metric (a period of an
 * alarm): numbers, identifiers, + - * /, comparisons (> >= < <= == !=), AND/OR (also && ||), parentheses, and the
 * functions FILL(m, value) and IF(condition, a[, b]). A missing datapoint is `undefined`; arithmetic on it is
 * missing, as CloudWatch drops such points; FILL replaces it. Anything else is refused with the expression quoted,
 * so an alarm the simulator cannot read fails loudly instead of being judged wrongly.
 */
export type Datapoint = number | undefined;

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'negate'; operand: Node }
  | { kind: 'call'; name: string; args: Node[] };

const TOKEN = /\s*(\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|>=|<=|==|!=|&&|\|\||[-+*/(),<>])/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < expression.length) {
    if (/^\s*$/.test(expression.slice(position))) break;
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(expression);
    if (!match) throw new Error(`metric math: cannot read "${expression}" at ${position}`);
    tokens.push(match[1]!);
    position = TOKEN.lastIndex;
  }
  return tokens;
}

/** Operator precedence, lowest first. */
const LEVELS = [
  ['OR', '||'],
  ['AND', '&&'],
  ['==', '!=', '>', '>=', '<', '<='],
  ['+', '-'],
  ['*', '/'],
];

export function parseExpression(expression: string): Node {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const token = tokens[i++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`metric math: expected ${expected ?? 'more'} in "${expression}"`);
    }
    return token;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    while (peek() !== undefined && LEVELS[n]!.includes(peek()!.toUpperCase())) {
      const op = take().toUpperCase();
      left = { kind: 'binary', op: op === '&&' ? 'AND' : op === '||' ? 'OR' : op, left, right: level(n + 1) };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '-') {
      take();
      return { kind: 'negate', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = take();
    if (token === '(') {
      const inner = level(0);
      take(')');
      return inner;
    }
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (!/^[A-Za-z_]/.test(token)) throw new Error(`metric math: unexpected "${token}" in "${expression}"`);
    if (peek() !== '(') return { kind: 'id', name: token };
    take('(');
    const args: Node[] = [];
    if (peek() !== ')') {
      args.push(level(0));
      while (peek() === ',') {
        take(',');
        args.push(level(0));
      }
    }
    take(')');
    const name = token.toUpperCase();
    if (!(name === 'FILL' && args.length === 2) && !(name === 'IF' && (args.length === 2 || args.length === 3))) {
      throw new Error(`metric math: ${token}/${args.length} is not supported by the simulator ("${expression}")`);
    }
    return { kind: 'call', name, args };
  };
  const tree = level(0);
  if (i !== tokens.length) throw new Error(`metric math: unexpected "${tokens[i]}" in "${expression}"`);
  return tree;
}

/** Evaluates a parsed expression; `lookup` gives each identifier's datapoint (a metric or another expression). */
export function evaluateExpression(node: Node, lookup: (id: string) => Datapoint): Datapoint {
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'id':
      return lookup(node.name);
    case 'negate': {
      const v = evaluateExpression(node.operand, lookup);
      return v === undefined ? undefined : -v;
    }
    case 'call': {
      const [a, b, c] = node.args;
      if (node.name === 'FILL') return evaluateExpression(a!, lookup) ?? evaluateExpression(b!, lookup);
      const condition = evaluateExpression(a!, lookup);
      if (condition === undefined) return undefined;
      if (condition !== 0) return evaluateExpression(b!, lookup);
      return c === undefined ? undefined : evaluateExpression(c, lookup);
    }
    case 'binary': {
      const l = evaluateExpression(node.left, lookup);
      const r = evaluateExpression(node.right, lookup);
      if (l === undefined || r === undefined) return undefined;
      switch (node.op) {
        case '+':
          return l + r;
        case '-':
          return l - r;
        case '*':
          return l * r;
        case '/':
          return r === 0 ? undefined : l / r;
        case '>':
          return Number(l > r);
        case '>=':
          return Number(l >= r);
        case '<':
          return Number(l < r);
        case '<=':
          return Number(l <= r);
        case '==':
          return Number(l === r);
        case '!=':
          return Number(l !== r);
        case 'AND':
          return Number(l !== 0 && r !== 0);
        case 'OR':
          return Number(l !== 0 || r !== 0);
      }
      throw new Error(`metric math: operator ${node.op}`);
    }
  }
}

export type Expression = Node;
