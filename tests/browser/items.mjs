// Answering each item type through the page, as a candidate does.
import assert from 'node:assert/strict';

/** Answers the item on screen through the page, by its type. */
export async function answer(page, type) {
  const item = page.getByTestId('item');
  switch (type) {
    case 'dropdown_gaps': {
      const gaps = item.locator('select');
      for (let i = 0; i < (await gaps.count()); i++) await gaps.nth(i).selectOption({ index: 1 });
      break;
    }
    case 'order_sentences':
    case 'order_words': {
      const prefix = type === 'order_sentences' ? 'sentence-' : 'token-';
      const pieces = item.locator(`[data-testid^="${prefix}"]`);
      const n = await pieces.count();
      for (let i = 0; i < n; i++) await item.getByTestId(`${prefix}${i}`).click();
      for (let i = 0; i < n; i++) assert.equal(await item.getByTestId(`${prefix}${i}`).getAttribute('data-placed'), 'true');
      // Clicking a placed piece removes it; placing it again puts it back.
      await item.getByTestId(`${prefix}0`).click();
      assert.equal(await item.getByTestId(`${prefix}0`).getAttribute('data-placed'), 'false');
      await item.getByTestId(`${prefix}0`).click();
      assert.equal(await item.getByTestId(`${prefix}0`).getAttribute('data-placed'), 'true');
      break;
    }
    case 'word_bank': {
      const gaps = item.locator('[data-testid^="gap-"]');
      const words = item.locator('[data-testid^="word-"]');
      const nGaps = await gaps.count();
      assert.ok((await words.count()) > nGaps, 'more words than gaps');
      for (let g = 1; g <= nGaps; g++) {
        await item.getByTestId(`gap-${g}`).click();
        await item.locator('[data-testid^="word-"]:visible').first().click();
      }
      // A placed word goes back to the bank when clicked.
      const placed = (await item.getByTestId('gap-1').innerText()).trim();
      assert.ok(placed.length > 0, 'gap 1 holds a word');
      await item.getByTestId('gap-1').click();
      assert.equal((await item.getByTestId('gap-1').innerText()).trim().includes(placed), false);
      await item.getByTestId('gap-1').click();
      await item.locator('[data-testid^="word-"]:visible').first().click();
      break;
    }
    case 'text_gaps': {
      const inputs = item.locator('input[type="text"], input:not([type])');
      for (let i = 0; i < (await inputs.count()); i++) await inputs.nth(i).fill('answer');
      break;
    }
    case 'choice': {
      // Keyboard only: reach the first option with Tab, choose it, validate with Enter.
      await page.getByTestId('question-heading').focus();
      for (let k = 0; k < 40; k++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(() => document.activeElement?.dataset?.testid === 'option-0')) break;
      }
      await page.keyboard.press('Space');
      assert.equal(await item.getByTestId('option-0').isChecked(), true);
      for (let k = 0; k < 40; k++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(() => document.activeElement?.dataset?.testid === 'validate')) break;
      }
      await page.keyboard.press('Enter');
      return 'validated';
    }
    case 'listening': {
      const left = page.getByTestId('plays-left');
      const before = await left.innerText();
      await page.getByTestId('play').click();
      await page.waitForFunction((b) => document.querySelector('[data-testid="plays-left"]').innerText !== b, before);
      const options = item.locator('[data-testid^="option-"]');
      if ((await options.count()) > 0) await options.first().check();
      else {
        const inputs = item.locator('input[type="text"], input:not([type])');
        for (let i = 0; i < (await inputs.count()); i++) await inputs.nth(i).fill('answer');
      }
      break;
    }
    default:
      assert.fail(`unexpected type ${type}`);
  }
  return null;
}

