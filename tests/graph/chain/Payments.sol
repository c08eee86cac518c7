// SPDX-License-Identifier: MIT
// Contracts that move ETH inside a transaction (internal transfers), for the trace ingestion tests.
pragma solidity ^0.8.20;

contract Splitter {
    // Pays half of what it is sent to each of two addresses.
    function split(address payable a, address payable b) external payable {
        a.transfer(msg.value / 2);
        b.transfer(msg.value - msg.value / 2);
    }

    // Pays `a` in a call that then reverts, and keeps the ETH: the payment never happened.
    function tryPay(address payable a) external payable {
        try this.payThenFail{value: msg.value}(a) {} catch {}
    }

    function payThenFail(address payable a) external payable {
        a.transfer(msg.value);
        revert("undone");
    }

    // Creates a child contract funded with what it is sent.
    function spawn() external payable returns (address) {
        return address(new Child{value: msg.value}());
    }
}

contract Child {
    constructor() payable {}
}
