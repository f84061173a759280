// Form plumbing: reading fields, and putting the API's per-field messages beside the fields.

import { h } from './dom.js';

export function clearErrors(form) {
  for (const slot of form.querySelectorAll('.field-error, .form-error')) slot.replaceChildren();
  for (const field of form.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
}

/**
 * Shows each message beside the field it is about: the API starts a message with the field's path
 * (`url must be…`, `retry.attempts must not be…`, `headers.x-key must not…`). Others go beside
 * `fallback` when given, else to the form's own error line.
 */
export function showErrors(form, messages, fallback) {
  clearErrors(form);
  for (const message of messages) {
    const path = message.split(' ', 1)[0];
    const field = fieldFor(form, path) ?? fieldFor(form, path.split('.')[0]) ?? fallback;
    const slot = field
      ? form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`)
      : form.querySelector('.form-error');
    slot.append(h('span', {}, message));
    if (field) form.elements.namedItem(field)?.setAttribute('aria-invalid', 'true');
  }
}

function fieldFor(form, path) {
  return form.querySelector(`.field-error[data-for="${CSS.escape(path)}"]`) ? path : undefined;
}

export function value(form, name) {
  return form.elements.namedItem(name).value.trim();
}

/** A whole number, or undefined when empty; a message naming the field when it is not one. */
export function optionalInteger(form, name, errors) {
  const text = value(form, name);
  if (text === '') return undefined;
  if (!/^-?\d+$/.test(text)) errors.push(`${name} must be a whole number`);
  return Number(text);
}

/** `name<sep>value` lines as an object, or undefined when empty; bad lines become messages. */
export function lines(form, name, separator, errors) {
  const text = form.elements.namedItem(name).value;
  const result = Object.create(null); // a "__proto__" line is sent as such, for the API to refuse
  let count = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const at = line.indexOf(separator);
    if (at <= 0) {
      errors.push(`${name} line ${i + 1} must be name${separator}value`);
      return;
    }
    result[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    count += 1;
  });
  return count > 0 ? result : undefined;
}

/** An object as `name<sep>value` lines. */
export function toLines(object, separator) {
  return Object.entries(object ?? {})
    .map(([k, v]) => `${k}${separator}${separator === ':' ? ' ' : ''}${v}`)
    .join('\n');
}

/** A JSON object, or undefined when empty; a message naming the field when it is not one. */
export function jsonObject(form, name, errors) {
  const text = value(form, name);
  if (text === '') return undefined;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  errors.push(`${name} must be a JSON object, such as {"topic": "dice"}`);
  return undefined;
}
